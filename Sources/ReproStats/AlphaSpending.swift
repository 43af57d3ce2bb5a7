#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Group-sequential boundaries from the Lan–DeMets alpha-spending approach with the O'Brien–Fleming-type
/// spending function α(t) = 2 − 2Φ(z_{1−α/2}/√t) (Lan & DeMets 1983), for a one-sided test at level α.
///
/// At the k-th look, at information fraction t_k (runs so far / the most runs the study may use), the boundary
/// b_k is the z with P(Z₁ < b₁, …, Z_{k−1} < b_{k−1}, Z_k ≥ b_k) = α(t_k) − α(t_{k−1}) under the null, where
/// (Z₁, …, Z_K) has the canonical joint distribution Cov(Z_i, Z_j) = √(t_i/t_j) (Jennison & Turnbull 2000,
/// §3.1). The probabilities are integrated numerically on a grid, recursively from look to look (Armitage,
/// McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19), with Simpson's rule.
///
/// Only the looks seen so far are needed: the fractions of later looks do not change earlier boundaries,
/// which is what lets an adaptive study look after each step and stop early.
public struct AlphaSpendingBoundaries: Sendable, Hashable {
    /// One-sided α spent in all by t = 1.
    public let alpha: Double
    /// Information fractions of the looks, increasing, in (0, 1].
    public let fractions: [Double]
    /// z boundary of each look (+∞ when the look spends nothing).
    public let bounds: [Double]
    /// α spent up to and including each look, α(t_k).
    public let cumulativeAlpha: [Double]

    /// Grid points per look: Simpson's rule with about 2 000 intervals keeps the boundaries within 1e-6 of
    /// the exact values for up to 20 looks.
    static let gridIntervals = 2_000
    /// The density is integrated from −12√t: below that it is under 1e-32.
    static let lowerLimit = -12.0

    /// α(t) = 2 − 2Φ(z_{1−α/2}/√t), the O'Brien–Fleming-type spending function; α(t) = α for t ≥ 1.
    public static func obrienFlemingSpent(fraction t: Double, alpha: Double) -> Double {
        guard t > 0 else { return 0 }
        let z = Normal.quantile(1 - alpha / 2)
        return 2 * Normal.sf(z / Swift.min(t, 1).squareRoot())
    }

    /// The boundaries for looks at `fractions` (increasing, each in (0, 1]).
    public init(fractions: [Double], alpha: Double) {
        precondition(alpha > 0 && alpha < 0.5, "alpha must be in (0, 0.5)")
        precondition(zip(fractions, fractions.dropFirst()).allSatisfy { $0 < $1 }, "fractions must increase")
        precondition(fractions.allSatisfy { $0 > 0 && $0 <= 1 }, "fractions must be in (0, 1]")
        self.alpha = alpha
        self.fractions = fractions
        cumulativeAlpha = fractions.map { Self.obrienFlemingSpent(fraction: $0, alpha: alpha) }

        var bounds: [Double] = []
        // The density of the score W_k = Z_k √t_k on the continuation region, at the grid points.
        var grid: [Double] = []
        var density: [Double] = []
        var previousSpent = 0.0
        var previousFraction = 0.0
        for (index, fraction) in fractions.enumerated() {
            let target = cumulativeAlpha[index] - previousSpent
            let scale = fraction.squareRoot()
            let bound: Double
            if index == 0 {
                bound = target > 0 ? -Normal.quantile(target) : .infinity
            } else {
                let step = (fraction - previousFraction).squareRoot()
                let (points, values) = (grid, density)
                // P(cross at this look) as a function of the z boundary: decreasing in b.
                func crossing(_ b: Double) -> Double {
                    let threshold = b * scale
                    return Self.simpson(points, values.enumerated().map { i, f in f * Normal.sf((threshold - points[i]) / step) })
                }
                bound = target > 0 ? Self.solve(crossing, target: target) : .infinity
            }
            bounds.append(bound)
            // The density on the continuation region W < b√t, for the next look.
            let upper = Swift.min(bound, 40) * scale
            let lower = Self.lowerLimit * scale
            let newGrid = Self.points(from: lower, to: Swift.max(upper, lower + 1e-9))
            if index == 0 {
                density = newGrid.map { Self.normalDensity($0 / scale) / scale }
            } else {
                let step = (fraction - previousFraction).squareRoot()
                let (points, values) = (grid, density)
                density = newGrid.map { v in
                    Self.simpson(points, points.indices.map { i in values[i] * Self.normalDensity((v - points[i]) / step) / step })
                }
            }
            grid = newGrid
            previousSpent = cumulativeAlpha[index]
            previousFraction = fraction
        }
        self.bounds = bounds
    }

    /// The nominal one-sided p-value at which each look rejects, 1 − Φ(b_k): comparing a test's p-value with it
    /// is the same as comparing its z with b_k, and lets a t statistic with few degrees of freedom be judged
    /// on the p scale.
    public var nominalAlpha: [Double] { bounds.map { $0.isFinite ? Normal.sf($0) : 0 } }

    static func normalDensity(_ z: Double) -> Double {
        exp(-0.5 * z * z) * 0.398_942_280_401_432_677_94
    }

    /// gridIntervals + 1 equally spaced points from `lower` to `upper`.
    static func points(from lower: Double, to upper: Double) -> [Double] {
        let h = (upper - lower) / Double(gridIntervals)
        return (0...gridIntervals).map { lower + Double($0) * h }
    }

    /// Simpson's rule over equally spaced points (an even number of intervals).
    static func simpson(_ points: [Double], _ values: [Double]) -> Double {
        guard points.count >= 3 else { return 0 }
        let h = points[1] - points[0]
        var total = values[0] + values[values.count - 1]
        for index in 1..<(values.count - 1) { total += (index % 2 == 1 ? 4 : 2) * values[index] }
        return total * h / 3
    }

    /// The b with f(b) = target for a decreasing f, by bisection to 1e-10.
    static func solve(_ f: (Double) -> Double, target: Double) -> Double {
        var low = -10.0
        var high = 40.0
        if f(high) > target { return high }
        while high - low > 1e-10 {
            let middle = 0.5 * (low + high)
            if f(middle) > target { low = middle } else { high = middle }
        }
        return 0.5 * (low + high)
    }
}
