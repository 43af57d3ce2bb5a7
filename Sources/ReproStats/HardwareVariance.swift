/// Two-way random-effects decomposition dataset × hardware class × seeds (statistics.md §3), by expected mean
/// squares (method of moments) for a balanced layout: a datasets, b hardware classes, n seeds per cell.
///
/// var_dataset = max(0, (MSA − MSAB)/(b n)), var_hardware = max(0, (MSB − MSAB)/(a n)),
/// var_interaction = max(0, (MSAB − MSE)/n), var_seed = MSE. Within a dataset the reproducibility sd is
/// s_R = √(var_hardware + var_interaction + var_seed) and the repeatability sd s_r = √var_seed (ISO 5725 limits
/// R = 2.8 s_R, r = 2.8 s_r). Matches `statistics-worked-example.py`. Built by
/// ``VarianceDecomposition/twoWay(_:)``.
public struct HardwareVariance: Codable, Sendable, Hashable {
    /// Number of datasets a.
    public let datasets: Int
    /// Number of hardware classes b.
    public let hardwareClasses: Int
    /// Seeds (runs) per dataset × hardware cell n.
    public let seedsPerCell: Int
    /// Mean square of datasets, MSA.
    public let msDataset: Double
    /// Mean square of hardware classes, MSB.
    public let msHardware: Double
    /// Mean square of the dataset × hardware interaction, MSAB.
    public let msInteraction: Double
    /// Residual (seed) mean square, MSE.
    public let msError: Double
    /// Dataset variance component.
    public let varDataset: Double
    /// Hardware variance component.
    public let varHardware: Double
    /// Dataset × hardware interaction variance component.
    public let varInteraction: Double
    /// Seed (residual) variance component.
    public let varSeed: Double
    /// Within-dataset reproducibility sd s_R = √(var_hardware + var_interaction + var_seed).
    public let sdReproducibility: Double
    /// Repeatability sd s_r = √var_seed.
    public let sdRepeatability: Double
    /// Reproducibility limit R = 2.8 s_R.
    public let reproducibility: Double
    /// Repeatability limit r = 2.8 s_r.
    public let repeatability: Double
    /// Hardware share of the within-dataset variance; nil when that variance is 0.
    public let shareHardware: Double?
    /// Interaction share of the within-dataset variance.
    public let shareInteraction: Double?
    /// Seed share of the within-dataset variance.
    public let shareSeed: Double?
    /// F = MSB / MSAB for the hardware effect; nil when MSAB = 0.
    public let fHardware: Double?
    /// P(F(b−1, (a−1)(b−1)) > F_hardware) (`scipy.stats.f.sf`).
    public let pHardware: Double?
    /// F = MSAB / MSE for the interaction; nil when MSE = 0.
    public let fInteraction: Double?
    /// P(F((a−1)(b−1), ab(n−1)) > F_interaction).
    public let pInteraction: Double?

    enum CodingKeys: String, CodingKey {
        case datasets
        case hardwareClasses = "hardware_classes"
        case seedsPerCell = "seeds_per_cell"
        case msDataset = "ms_dataset"
        case msHardware = "ms_hardware"
        case msInteraction = "ms_interaction"
        case msError = "ms_error"
        case varDataset = "var_dataset"
        case varHardware = "var_hardware"
        case varInteraction = "var_interaction"
        case varSeed = "var_seed"
        case sdReproducibility = "sd_reproducibility"
        case sdRepeatability = "sd_repeatability"
        case reproducibility, repeatability
        case shareHardware = "share_hardware"
        case shareInteraction = "share_interaction"
        case shareSeed = "share_seed"
        case fHardware = "f_hardware"
        case pHardware = "p_hardware"
        case fInteraction = "f_interaction"
        case pInteraction = "p_interaction"
    }

    /// The decomposition of `values[dataset][hardware][seed]`; nil unless the layout is balanced with a ≥ 2,
    /// b ≥ 2, n ≥ 2 and all values finite. (For a single dataset use ``VarianceDecomposition/oneWay(groups:)``
    /// with hardware classes as groups.)
    public init?(values: [[[Double]]]) {
        let a = values.count
        guard a >= 2, let b = values.first?.count, b >= 2, let n = values.first?.first?.count, n >= 2,
            values.allSatisfy({ $0.count == b && $0.allSatisfy { $0.count == n && $0.allSatisfy(\.isFinite) } })
        else { return nil }
        let (fa, fb, fn) = (Double(a), Double(b), Double(n))

        let cellMeans = values.map { dataset in dataset.map { SampleMoments($0).mean ?? 0 } }
        let datasetMeans = cellMeans.map { $0.reduce(0, +) / fb }
        let hardwareMeans = (0..<b).map { h in cellMeans.reduce(0) { $0 + $1[h] } / fa }
        let grandMean = datasetMeans.reduce(0, +) / fa

        let ssA = fb * fn * datasetMeans.reduce(0) { $0 + ($1 - grandMean) * ($1 - grandMean) }
        let ssB = fa * fn * hardwareMeans.reduce(0) { $0 + ($1 - grandMean) * ($1 - grandMean) }
        var ssAB = 0.0
        var ssE = 0.0
        for d in 0..<a {
            for h in 0..<b {
                let interaction = cellMeans[d][h] - datasetMeans[d] - hardwareMeans[h] + grandMean
                ssAB += fn * interaction * interaction
                ssE += SampleMoments(values[d][h]).sumOfSquares
            }
        }
        let dfInteraction = (a - 1) * (b - 1)
        let dfError = a * b * (n - 1)
        let msA = ssA / Double(a - 1)
        let msB = ssB / Double(b - 1)
        let msAB = ssAB / Double(dfInteraction)
        let msE = ssE / Double(dfError)

        datasets = a
        hardwareClasses = b
        seedsPerCell = n
        msDataset = msA
        msHardware = msB
        msInteraction = msAB
        msError = msE
        varDataset = Swift.max(0, (msA - msAB) / (fb * fn))
        varHardware = Swift.max(0, (msB - msAB) / (fa * fn))
        varInteraction = Swift.max(0, (msAB - msE) / fn)
        varSeed = msE
        let withinDataset = varHardware + varInteraction + varSeed
        sdReproducibility = withinDataset.squareRoot()
        sdRepeatability = msE.squareRoot()
        reproducibility = 2.8 * sdReproducibility
        repeatability = 2.8 * sdRepeatability
        if withinDataset > 0 {
            shareHardware = varHardware / withinDataset
            shareInteraction = varInteraction / withinDataset
            shareSeed = varSeed / withinDataset
        } else {
            (shareHardware, shareInteraction, shareSeed) = (nil, nil, nil)
        }
        if msAB > 0 {
            fHardware = msB / msAB
            pHardware = FDistribution(numerator: b - 1, denominator: dfInteraction).sf(msB / msAB)
        } else {
            (fHardware, pHardware) = (nil, nil)
        }
        if msE > 0 {
            fInteraction = msAB / msE
            pInteraction = FDistribution(numerator: dfInteraction, denominator: dfError).sf(msAB / msE)
        } else {
            (fInteraction, pInteraction) = (nil, nil)
        }
    }
}
