/// The second-order correction of the logit-scale statistic of a bounded mean (docs/statistics.md §2a):
/// Hall's transformation of T = (logit ū − logit u)/se and the degrees of freedom of the Student t it is
/// compared with.
///
/// ū is the mean of n values with sd σ, both in units of the metric's range [0, 1]; se = σ/(√n·ū(1 − ū)) is the
/// delta method's. Accuracies piled up near 1 are skewed, and T inherits it: with the plain t quantiles the
/// one-sided lower bounds were too high (7–8 % false `reproduced` at the tolerance edge for sd 0.05 near 1, where
/// 5 % is the design; docs/statistics-calibration.md). Both parts below come from expanding T in powers of
/// n^(−1/2) (References/issue15_beta_expansion.py derives them with sympy):
///
/// - order n^(−1/2): A = γ/3 + κ/2 and B = γ/6 for Hall's transformation, γ the skewness of the values and
///   κ = σ·(2ū − 1)/(ū(1 − ū)) the curvature of the logit over one sd;
/// - order 1/n: Var g(T) = 1 + v₂/n. The t with n − 1 df has v₂ = 2 (normal values); skewed values have more, and
///   ν = 2 + (n − 3)·2/v₂ is the t whose variance matches (n − 1 when v₂ = 2). Without it the transformed
///   statistic still gave 5.6–5.9 % at n = 5–20 for sd 0.05 (a heavier upper tail than t's).
///
/// γ is that of the beta distribution with the measured mean and sd, 2(1 − 2ū)·σ/(ū(1 − ū) + σ²), not the sample
/// skewness: the sample skewness of 5–20 values is too noisy and low exactly in the samples that missed the long
/// tail (those that make false `reproduced`), which made the rates at n ≤ 10 worse than no correction. A metric
/// bounded in [0, 1] whose mean is near a bound cannot be symmetric, and the beta is the usual model of that. With
/// γ from ū and σ, v₂ is a function of w = ū(1 − ū) and ρ = σ²/w alone (``varianceCoefficient(u:sd:)``). Far from
/// the bounds both corrections vanish: at ū = ½ the interval is the delta-method one with n − 1 df.
struct LogitSkewCorrection: Sendable, Hashable {
    /// g, applied to T before it is compared with the t distribution.
    let transformation: HallTransformation
    /// ν of that t distribution.
    let degreesOfFreedom: Double

    /// The correction for the mean `u` ∈ (0, 1) of `count` ≥ 2 values with sd `sd` > 0, in units of the range.
    init(u: Double, sd: Double, count: Int) {
        let spread = u * (1 - u)
        let tilt = 1 - 2 * u
        let skewness = 2 * tilt * sd / (spread + sd * sd)
        let curvature = -tilt * sd / spread
        let root = Double(count).squareRoot()
        transformation = HallTransformation(a: (skewness / 3 + curvature / 2) / root, b: skewness / 6 / root)
        // t with n − 1 ≤ 2 df has no variance to match: n − 1 there. Above, never more than n − 1 (v₂ ≥ 2).
        degreesOfFreedom =
            count <= 3 ? Double(count - 1) : 2 + Double(count - 3) * 2 / Self.varianceCoefficient(u: u, sd: sd)
    }

    /// The Student t that g(T) is compared with.
    var reference: StudentT { StudentT(degreesOfFreedom: degreesOfFreedom) }

    /// v₂ of Var g(T) = 1 + v₂/n + O(1/n²), at least 2 (the normal-theory t):
    /// v₂ − 2 = ρ·(w·(72ρ³ − 144ρ² + 112ρ − 344) + 53 − 85ρ + 21ρ² − 9ρ³)/(18·w·(1 + ρ)³), w = u(1 − u), ρ = σ²/w.
    ///
    /// It is below 2 for every spread when u is within [0.19, 0.81] (the logit scale shortens the tails a little
    /// there) and, nearer a bound, for large spreads (ρ beyond 0.31 at u = 0.9 and 0.67 at u = 0.99, where the beta's
    /// a + b = 1/ρ − 1 is below 2.2 and 0.5), where the expansion's terms are no longer small; there the df stay
    /// n − 1: the correction never takes them above n − 1.
    static func varianceCoefficient(u: Double, sd: Double) -> Double {
        let w = u * (1 - u)
        let rho = sd * sd / w
        let nearBound = w * (((72 * rho - 144) * rho + 112) * rho - 344)
        let spread = ((-9 * rho + 21) * rho - 85) * rho + 53
        let excess = rho * (nearBound + spread) / (18 * w * (1 + rho) * (1 + rho) * (1 + rho))
        return 2 + Swift.max(excess, 0)
    }
}
