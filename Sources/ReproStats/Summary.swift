#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Descriptive statistics of one (dataset, metric) cell: statistics.md §1.
///
/// Every quantity that is undefined for the data is nil (an absent key in JSON), never NaN or infinity:
/// n = 0 gives only `n` and empty `outliers`; n = 1 has no sd, se, cv or intervals; all-equal values have
/// sd = 0, cv = 0 and point intervals. Non-finite inputs (NaN, ±∞, e.g. a diverged loss) are not counted:
/// they are reported in `non_finite`, and `outliers` still indexes the original array.
///
/// The bootstrap dominates the cost (resamples × n draws: about 0.8 s of one core for 100 000 runs). Summaries are
/// pure values, so a report computes its cells concurrently (`DispatchQueue.concurrentPerform` in
/// ReportBuilder).
public struct Summary: Codable, Sendable, Hashable {
    /// The bootstrap interval is reported from this many finite values on.
    public static let bootstrapMinimumCount = 10

    /// Number of finite values counted (one per successful (seed, replica) run).
    public let n: Int
    /// Number of inputs left out because they were NaN or infinite.
    public let nonFinite: Int
    /// Arithmetic mean (`numpy.mean`).
    public let mean: Double?
    /// Sample standard deviation, ddof = 1 (`numpy.std(ddof=1)`); needs n ≥ 2.
    public let sd: Double?
    /// Standard error of the mean, sd / √n.
    public let se: Double?
    /// Median (`numpy.median`).
    public let median: Double?
    /// Median absolute deviation scaled to the normal, MAD / Φ⁻¹(¾) ≈ 1.4826 · MAD
    /// (`scipy.stats.median_abs_deviation(x, scale='normal')`).
    public let mad: Double?
    /// Interquartile mean, the 25 % trimmed mean (`scipy.stats.trim_mean(x, 0.25)`).
    public let iqm: Double?
    /// Smallest value.
    public let min: Double?
    /// Largest value.
    public let max: Double?
    /// max − min.
    public let range: Double?
    /// Coefficient of variation in percent, 100 · sd / |mean|; nil when the mean is 0.
    public let cv: Double?
    /// Small-sample corrected CV of Belz et al. 2022 (QRA), in percent:
    /// (1 + 1/(4n)) · (sd / c₄(n)) / |mean| · 100 with c₄(n) = √(2/(n−1)) · Γ(n/2) / Γ((n−1)/2).
    public let cvStar: Double?
    /// Student-t 95 % interval of the mean (`scipy.stats.t.interval(0.95, n-1, mean, se)`).
    public let ci95Mean: Interval?
    /// BCa bootstrap interval of the mean (see ``Bootstrap/bcaMeanInterval(of:options:)``), when n ≥ 10.
    public let ci95Bootstrap: Interval?
    /// 95 % prediction interval for one new run: mean ± t(0.975, n−1) · sd · √(1 + 1/n).
    public let pi95NextRun: Interval?
    /// Indices (into the input array, ascending) of runs whose modified z-score 0.6745 (x − median) / MAD
    /// exceeds 3.5 in absolute value (Iglewicz & Hoaglin). When MAD = 0 the score falls back to
    /// (x − median) / (1.253314 · mean absolute deviation), IBM's convention, so a single deviating run among
    /// identical ones is still flagged; when that is 0 too, every run equals the median and none is an outlier.
    public let outliers: [Int]
    /// Statistics that are defined for this many values but could not be computed because they overflow a
    /// Double (values near ±1e308), each with the reason; nil when every statistic was computed.
    public let unavailable: [String: String]?

    enum CodingKeys: String, CodingKey {
        case n
        case nonFinite = "non_finite"
        case mean, sd, se, median, mad, iqm, min, max, range, cv
        case cvStar = "cv_star"
        case ci95Mean = "ci95_mean"
        case ci95Bootstrap = "ci95_bootstrap"
        case pi95NextRun = "pi95_next_run"
        case outliers, unavailable
    }

    /// Summarizes the metric values of one cell.
    /// - Parameters:
    ///   - values: one value per successful run, in any order.
    ///   - bootstrap: resampling settings for `ci95_bootstrap` (default: 9 999 resamples, seed 0, 95 %);
    ///     nil skips the bootstrap, the only part whose cost grows as resamples × n.
    public init(values: [Double], bootstrap: BootstrapOptions? = .standard) {
        let finite = values.filter(\.isFinite)
        n = finite.count
        nonFinite = values.count - finite.count
        let moments = SampleMoments(finite)
        let sorted = SortedSample(finite)
        // Every statistic goes through `keep`: one that is defined for this n but does not fit a Double
        // (values near ±1e308) becomes nil and is named in `unavailable` with the reason.
        var unavailable: [String: String] = [:]
        func keep(_ value: Double?, _ name: String, definedFrom minimum: Int = 1) -> Double? {
            if let value, value.isFinite { return value }
            if finite.count >= minimum { unavailable[name] = Self.overflowReason }
            return nil
        }
        func keepInterval(_ interval: Interval?, _ name: String, definedFrom minimum: Int = 2) -> Interval? {
            if let interval, interval.isFinite { return interval }
            if finite.count >= minimum { unavailable[name] = Self.overflowReason }
            return nil
        }
        let mean = keep(moments.mean, "mean")
        let sd = keep(moments.sd, "sd", definedFrom: 2)
        self.mean = mean
        self.sd = sd
        median = sorted.median
        min = sorted.values.first
        max = sorted.values.last
        range = keep(sorted.values.last.flatMap { last in sorted.values.first.map { last - $0 } }, "range")
        iqm = keep(sorted.trimmedMean(proportion: 0.25), "iqm")
        let rawMAD = sorted.medianAbsoluteDeviation.flatMap { $0.isFinite ? $0 : nil }
        mad = keep(rawMAD.map { $0 / Self.normalQuartile }, "mad")

        if let mean, let sd {
            let count = Double(n)
            se = keep(sd / count.squareRoot(), "se", definedFrom: 2)
            cv = mean == 0 ? nil : keep(100 * sd / abs(mean), "cv", definedFrom: 2)
            cvStar = mean == 0 ? nil : keep((1 + 1 / (4 * count)) * (sd / Self.c4(n)) / abs(mean) * 100, "cv_star", definedFrom: 2)
            ci95Mean = keepInterval(Interval.studentMean(mean: mean, sd: sd, count: n, level: 0.95), "ci95_mean")
            pi95NextRun = keepInterval(Interval.nextRun(mean: mean, sd: sd, count: n, level: 0.95), "pi95_next_run")
        } else {
            (se, cv, cvStar, ci95Mean, pi95NextRun) = (nil, nil, nil, nil, nil)
            for name in ["se", "cv", "ci95_mean", "pi95_next_run"] where n >= 2 { unavailable[name] = Self.overflowReason }
        }
        if let bootstrap, n >= Self.bootstrapMinimumCount {
            ci95Bootstrap = keepInterval(
                Bootstrap.bcaMeanInterval(of: finite, options: bootstrap), "ci95_bootstrap",
                definedFrom: Self.bootstrapMinimumCount)
        } else {
            ci95Bootstrap = nil
        }
        outliers = Self.outlierIndices(values, median: sorted.median, rawMAD: rawMAD)
        self.unavailable = unavailable.isEmpty ? nil : unavailable
    }

    /// Why a statistic in ``unavailable`` is missing.
    public static let overflowReason = "not representable: the values are too large (beyond ±1.8e308 when combined)"

    /// Φ⁻¹(0.75): scipy's `scale='normal'` divides the raw MAD by it.
    static let normalQuartile = 0.674_489_750_196_081_7

    /// c₄(n) = √(2/(n−1)) · Γ(n/2) / Γ((n−1)/2), the bias factor of the sample sd under normality (n ≥ 2).
    static func c4(_ n: Int) -> Double {
        let halfDegrees = 0.5 * Double(n - 1)
        return (2 / Double(n - 1)).squareRoot() * exp(SpecialFunctions.logGammaDifference(halfDegrees, shift: 0.5))
    }

    /// Modified z-score outliers (Iglewicz & Hoaglin 1993), indices into `values` (non-finite values skipped).
    static func outlierIndices(_ values: [Double], median: Double?, rawMAD: Double?) -> [Int] {
        guard let median, let rawMAD else { return [] }
        let scale: Double
        if rawMAD > 0 {
            scale = rawMAD / 0.6745
        } else {
            var total = 0.0
            var count = 0
            for value in values where value.isFinite {
                total += abs(value - median)
                count += 1
            }
            let meanAbsoluteDeviation = total / Double(count)
            guard meanAbsoluteDeviation > 0 else { return [] }
            scale = 1.253_314 * meanAbsoluteDeviation
        }
        return values.indices.filter { values[$0].isFinite && abs(values[$0] - median) / scale > 3.5 }
    }
}
