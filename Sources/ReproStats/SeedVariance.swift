/// Where the variance of one dataset's runs comes from: seeds versus repeat noise (statistics.md §3).
///
/// A one-way random-effects ANOVA with the seed as group and its replicas (the same seed run again, on another
/// worker) as members; built by ``VarianceDecomposition/oneWay(groups:)``. Unbalanced groups use the effective
/// group size n₀ of ``OneWayANOVA``. Without replicas (one run per seed) seed and repeat noise are confounded:
/// `var_seed`, `var_repeat`, `icc` and `repeatability` are nil and `reproducibility` uses the total variance.
public struct SeedVariance: Codable, Sendable, Hashable {
    /// Number of seeds (groups with at least one run).
    public let seeds: Int
    /// Number of runs.
    public let runs: Int
    /// Effective replicas per seed n₀ (= R when balanced).
    public let n0: Double?
    /// Mean square between seeds.
    public let msb: Double?
    /// Mean square within seeds (repeat noise: hardware, library versions, nondeterministic kernels).
    public let msw: Double?
    /// F = MSB / MSW: do seeds differ by more than repeat noise?
    public let f: Double?
    /// p-value of F (`scipy.stats.f_oneway` over the seed groups).
    public let p: Double?
    /// Seed variance max(0, (MSB − MSW) / n₀).
    public let varSeed: Double?
    /// Repeat variance MSW.
    public let varRepeat: Double?
    /// var_seed / (var_seed + var_repeat).
    public let icc: Double?
    /// ISO 5725 repeatability limit r = 2.8 √var_repeat.
    public let repeatability: Double?
    /// ISO 5725 reproducibility limit R = 2.8 √(var_seed + var_repeat).
    public let reproducibility: Double?
    /// Share of seeds with ≥ 2 replicas whose replicas are bitwise identical; nil without replicas.
    public let deterministicShare: Double?
    /// Largest |difference| between two replicas of one seed; nil without replicas.
    public let maxReplicaDifference: Double?

    enum CodingKeys: String, CodingKey {
        case seeds, runs, n0, msb, msw, f, p
        case varSeed = "var_seed"
        case varRepeat = "var_repeat"
        case icc, repeatability, reproducibility
        case deterministicShare = "deterministic_share"
        case maxReplicaDifference = "max_replica_difference"
    }

    /// The decomposition of runs grouped by seed: `groups[s]` holds the replica values of seed s.
    public init(groups: [[Double]]) {
        let anova = OneWayANOVA(groups: groups)
        seeds = anova.groups
        runs = anova.n
        n0 = anova.n0
        msb = anova.msBetween
        msw = anova.msWithin
        f = anova.f
        p = anova.p
        varSeed = anova.varBetween
        varRepeat = anova.msWithin
        icc = anova.betweenShare
        repeatability = anova.msWithin.map { 2.8 * $0.squareRoot() }
        if let seedPart = anova.varBetween, let repeatPart = anova.msWithin {
            reproducibility = 2.8 * (seedPart + repeatPart).squareRoot()
        } else if anova.msWithin == nil, let total = anova.msBetween {
            reproducibility = 2.8 * total.squareRoot()
        } else {
            reproducibility = nil
        }

        let replicated = groups.map { $0.filter(\.isFinite) }.filter { $0.count >= 2 }
        if replicated.isEmpty {
            (deterministicShare, maxReplicaDifference) = (nil, nil)
        } else {
            let identical = replicated.count { group in group.allSatisfy { $0.bitPattern == group[0].bitPattern } }
            deterministicShare = Double(identical) / Double(replicated.count)
            maxReplicaDifference = replicated.map { ($0.max() ?? 0) - ($0.min() ?? 0) }.max()
        }
    }
}
