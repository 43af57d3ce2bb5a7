#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// The noncentral t distribution's upper tail, P(T ≥ t) for T = (Z + λ)/√(V/ν), Z standard normal and V χ²_ν
/// (`scipy.stats.nct.sf`): ∫ Φ(λ − t·s) f_S(s) ds over the density of S = √(V/ν), integrated with Simpson's
/// rule. Accurate to about 1e-9 for ν ≥ 1 and |λ| ≤ 40, which is all a power calculation needs.
public enum NoncentralT {
    public static func sf(_ t: Double, degreesOfFreedom nu: Double, noncentrality lambda: Double) -> Double {
        guard nu > 0, t.isFinite, lambda.isFinite else { return .nan }
        // S has mean ≈ 1 and sd ≈ 1/√(2ν); for ν = 1 it is |Z|. Beyond `upper` the density is below 1e-30.
        let upper = 1 + 14 / (2 * nu).squareRoot() + 14 / nu
        let intervals = 8_000
        let h = upper / Double(intervals)
        let logNormalizer = 0.5 * nu * log(0.5 * nu) + log(2.0) - SpecialFunctions.logGamma(0.5 * nu)
        func integrand(_ s: Double) -> Double {
            let density: Double
            if s == 0 {
                density = nu == 1 ? exp(logNormalizer) : 0
            } else {
                density = exp(logNormalizer + (nu - 1) * log(s) - 0.5 * nu * s * s)
            }
            return density * Normal.cdf(lambda - t * s)
        }
        var total = integrand(0) + integrand(upper)
        for index in 1..<intervals { total += (index % 2 == 1 ? 4 : 2) * integrand(Double(index) * h) }
        return Swift.min(1, Swift.max(0, total * h / 3))
    }
}

/// How many runs a claim needs before spending compute (`repro plan`, docs/statistics.md §2d): for a given sd,
/// the smallest n at which the fixed verdict rule of §2 decides the claim with 80 % or 90 % probability,
/// (a) `reproduced` when the true mean equals the claim, (b) `not_reproduced` when the true mean is off by
/// twice the tolerance, never fewer than n_min = 5 (one tolerance beyond the edge of the claim's margin; at the edge itself neither
/// verdict can reach 80 %: `reproduced` is held at 5 % there by design).
///
/// Power of the one-sided tests of §2 from the noncentral t with ncp = δ·√n/σ:
/// - reproduced (`higher`/`lower`): P(T ≥ t(0.95, n − 1)); `equal` (TOST): 2·P(T ≥ t(0.95, n − 1)) − 1, the
///   usual lower bound of TOST power (exact when the two one-sided tests never both fail);
/// - not_reproduced: P(T ≥ t(0.975, n − 1)).
public struct ClaimPlan: Codable, Sendable, Hashable {
    public let claim: Claim
    /// δ used.
    public let tolerance: Double
    /// The sd the plan assumes.
    public let sd: Double
    /// Runs for 80 % / 90 % probability of `reproduced` when the true mean is the claim (nil beyond the limit).
    public let reproducedRuns80: Int?
    public let reproducedRuns90: Int?
    /// Runs for 80 % / 90 % probability of `not_reproduced` when the true mean is off by 2δ.
    public let notReproducedRuns80: Int?
    public let notReproducedRuns90: Int?

    enum CodingKeys: String, CodingKey {
        case claim, tolerance, sd
        case reproducedRuns80 = "reproduced_runs_80"
        case reproducedRuns90 = "reproduced_runs_90"
        case notReproducedRuns80 = "not_reproduced_runs_80"
        case notReproducedRuns90 = "not_reproduced_runs_90"
    }

    /// Searched up to this many runs.
    public static let limit = 100_000

    /// The plan of `claim` for an assumed per-run sd (> 0).
    public init(claim: Claim, sd: Double) {
        self.claim = claim
        tolerance = claim.effectiveTolerance
        self.sd = sd
        let delta = tolerance
        let equal = claim.direction == .equal
        func reproducedPower(_ n: Int) -> Double { Self.reproducedPower(runs: n, sd: sd, tolerance: delta, equal: equal) }
        func refutedPower(_ n: Int) -> Double { Self.notReproducedPower(runs: n, sd: sd, tolerance: delta) }
        // A verdict needs at least n_min runs (5), however small the sd.
        let floor = ClaimCheck.defaultMinimumRuns
        reproducedRuns80 = Self.runs(reaching: 0.8, reproducedPower).map { Swift.max($0, floor) }
        reproducedRuns90 = Self.runs(reaching: 0.9, reproducedPower).map { Swift.max($0, floor) }
        notReproducedRuns80 = Self.runs(reaching: 0.8, refutedPower).map { Swift.max($0, floor) }
        notReproducedRuns90 = Self.runs(reaching: 0.9, refutedPower).map { Swift.max($0, floor) }
    }

    /// P(reproduced) with n runs when the true mean is the claim.
    public static func reproducedPower(runs n: Int, sd: Double, tolerance: Double, equal: Bool) -> Double {
        guard n >= 2, sd > 0 else { return sd == 0 && n >= 2 ? 1 : 0 }
        let df = Double(n - 1)
        let ncp = tolerance * Double(n).squareRoot() / sd
        let oneSided = NoncentralT.sf(StudentT(degreesOfFreedom: n - 1).quantile(0.95), degreesOfFreedom: df, noncentrality: ncp)
        return equal ? Swift.max(0, 2 * oneSided - 1) : oneSided
    }

    /// P(not_reproduced) with n runs when the true mean is off by 2δ (δ beyond the margin).
    public static func notReproducedPower(runs n: Int, sd: Double, tolerance: Double) -> Double {
        guard n >= 2, sd > 0 else { return sd == 0 && n >= 2 ? 1 : 0 }
        let ncp = tolerance * Double(n).squareRoot() / sd
        return NoncentralT.sf(
            StudentT(degreesOfFreedom: n - 1).quantile(0.975), degreesOfFreedom: Double(n - 1), noncentrality: ncp)
    }

    /// The smallest n ≥ 2 with power(n) ≥ target (power grows with n), or nil up to ``limit``.
    static func runs(reaching target: Double, _ power: (Int) -> Double) -> Int? {
        var low = 1
        var high = 2
        while power(high) < target {
            guard high < limit else { return nil }
            low = high
            high = Swift.min(high * 2, limit)
        }
        while high - low > 1 {
            let middle = (low + high) / 2
            if power(middle) >= target { high = middle } else { low = middle }
        }
        return high
    }
}
