/// One-way analysis of variance with random-effects variance components.
///
/// F and p match `scipy.stats.f_oneway(*groups)`. The variance components use the method of moments with the
/// standard effective group size for unequal groups, n₀ = (N − Σnᵢ²/N) / (k − 1) (Searle, Casella &
/// McCulloch 1992, §3.6), which is the common size R when the groups are balanced:
/// var_between = max(0, (MSB − MSW) / n₀), var_within = MSW.
///
/// Empty groups and non-finite values are left out. When every group is constant, MSW = 0 and F is infinite:
/// `f` is then nil and `p` is 0 if the group means differ (scipy returns inf, 0), nil if they do not.
public struct OneWayANOVA: Codable, Sendable, Hashable {
    /// Number of non-empty groups k.
    public let groups: Int
    /// Total number of values N.
    public let n: Int
    /// Between-group degrees of freedom, k − 1.
    public let dfBetween: Int
    /// Within-group degrees of freedom, N − k.
    public let dfWithin: Int
    /// Between-group sum of squares Σ nᵢ (meanᵢ − mean)².
    public let ssBetween: Double
    /// Within-group sum of squares Σ (x − meanᵢ)².
    public let ssWithin: Double
    /// MSB = SSB / (k − 1); nil when k < 2.
    public let msBetween: Double?
    /// MSW = SSW / (N − k); nil when N = k (no group has two values).
    public let msWithin: Double?
    /// F = MSB / MSW.
    public let f: Double?
    /// P(F(k−1, N−k) > F), `scipy.stats.f_oneway(...).pvalue`.
    public let p: Double?
    /// Effective group size n₀ = (N − Σnᵢ²/N) / (k − 1).
    public let n0: Double?
    /// Between-group variance component max(0, (MSB − MSW) / n₀).
    public let varBetween: Double?
    /// Within-group variance component MSW.
    public let varWithin: Double?
    /// Share of variance between groups, var_between / (var_between + var_within): ICC(1).
    public let betweenShare: Double?
    /// η² = SSB / (SSB + SSW), the share of the sum of squares between groups.
    public let etaSquared: Double?

    enum CodingKeys: String, CodingKey {
        case groups, n
        case dfBetween = "df_between"
        case dfWithin = "df_within"
        case ssBetween = "ss_between"
        case ssWithin = "ss_within"
        case msBetween = "ms_between"
        case msWithin = "ms_within"
        case f, p, n0
        case varBetween = "var_between"
        case varWithin = "var_within"
        case betweenShare = "between_share"
        case etaSquared = "eta_squared"
    }

    /// The ANOVA of `groups` (each the values of one group: a seed's replicas, or a dataset's runs).
    public init(groups: [[Double]]) {
        let cleaned = groups.map { $0.filter(\.isFinite) }.filter { !$0.isEmpty }
        let moments = cleaned.map(SampleMoments.init)
        let all = SampleMoments(cleaned.flatMap { $0 })
        let k = cleaned.count
        let total = all.count
        self.groups = k
        n = total
        dfBetween = Swift.max(k - 1, 0)
        dfWithin = total - k

        let grandMean = all.mean ?? 0
        var between = 0.0
        var within = 0.0
        for group in moments {
            let offset = (group.mean ?? 0) - grandMean
            between += Double(group.count) * offset * offset
            within += group.sumOfSquares
        }
        ssBetween = between
        ssWithin = within
        let msb = k >= 2 ? between / Double(k - 1) : nil
        let msw = dfWithin > 0 ? within / Double(dfWithin) : nil
        msBetween = msb
        msWithin = msw

        if let msb, let msw {
            if msw > 0 {
                let ratio = msb / msw
                f = ratio
                p = FDistribution(numerator: k - 1, denominator: dfWithin).sf(ratio)
            } else {
                f = nil
                p = msb > 0 ? 0 : nil
            }
        } else {
            (f, p) = (nil, nil)
        }

        if k >= 2 {
            let squares = cleaned.reduce(0.0) { $0 + Double($1.count * $1.count) }
            n0 = (Double(total) - squares / Double(total)) / Double(k - 1)
        } else {
            n0 = nil
        }
        if let msb, let msw, let n0 {
            let componentBetween = Swift.max(0, (msb - msw) / n0)
            varBetween = componentBetween
            varWithin = msw
            let sum = componentBetween + msw
            betweenShare = sum > 0 ? componentBetween / sum : nil
        } else {
            (varBetween, varWithin, betweenShare) = (nil, msw, nil)
        }
        etaSquared = between + within > 0 ? between / (between + within) : nil
    }
}
