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

    /// Grid intervals per look for Simpson's rule. With 1 000 the boundaries agree with a 2 000-interval grid
    /// within 3e-8 for up to 20 looks and 2e-7 for 40 (α = 0.005–0.05), far inside the 1e-5 to which the
    /// scipy reference itself is good; each halving of the spacing costs four times the time.
    static let gridIntervals = 1_000
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
        // The score W_k = Z_k √t_k on the continuation region, as equally spaced grid points (first point and
        // spacing) and its density there with Simpson's weights already applied, so an integral over the
        // region is a plain sum.
        var grid = Grid(first: 0, spacing: 0, weighted: [])
        var previousSpent = 0.0
        var previousFraction = 0.0
        for (index, fraction) in fractions.enumerated() {
            let target = cumulativeAlpha[index] - previousSpent
            let scale = fraction.squareRoot()
            let step = (fraction - previousFraction).squareRoot()
            let bound: Double
            if index == 0 {
                bound = target > 0 ? -Normal.quantile(target) : .infinity
            } else {
                // P(cross at this look) as a function of the z boundary: decreasing in b.
                let previous = grid
                bound = target > 0 ? Self.solve({ previous.crossing(above: $0 * scale, step: step) }, target: target) : .infinity
            }
            bounds.append(bound)
            // The density on the continuation region W < b√t, for the next look.
            let upper = Swift.min(bound, 40) * scale
            let lower = Self.lowerLimit * scale
            let spacing = (Swift.max(upper, lower + 1e-9) - lower) / Double(Self.gridIntervals)
            let weighted: [Double]
            if index == 0 {
                weighted = (0...Self.gridIntervals).map { i in
                    Self.simpsonWeight(i) * spacing * Self.normalDensity((lower + Double(i) * spacing) / scale) / scale
                }
            } else {
                let previous = grid
                weighted = (0...Self.gridIntervals).map { i in
                    Self.simpsonWeight(i) * spacing * previous.density(at: lower + Double(i) * spacing, step: step)
                }
            }
            grid = Grid(first: lower, spacing: spacing, weighted: weighted)
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

    /// Simpson's weight of grid point `i` (divided by 3, times the spacing by the caller): 1, 4, 2, 4, …, 4, 1.
    static func simpsonWeight(_ i: Int) -> Double {
        (i == 0 || i == gridIntervals ? 1 : (i % 2 == 1 ? 4 : 2)) / 3
    }

    /// A look's continuation region on equally spaced points, with the density times Simpson's weights.
    ///
    /// Both integrals below have a normal kernel of width `step` in W; terms more than `kernelReach` widths
    /// away weigh less than e^−50 relative to the largest and are skipped, which makes each integral cost the
    /// points within reach rather than the whole grid. That keeps a 20-look design to milliseconds, and, as
    /// important, keeps the test suite's many parallel checks from starving everything else of CPU.
    struct Grid {
        let first: Double
        let spacing: Double
        let weighted: [Double]

        static let kernelReach = 12.0

        /// Indices of the points within `[low, high]`.
        func indices(from low: Double, to high: Double) -> Range<Int> {
            guard !weighted.isEmpty, spacing > 0 else { return 0..<0 }
            let last = Double(weighted.count - 1)
            let start = Swift.min(Swift.max(0, ((low - first) / spacing).rounded(.up)), last + 1)
            let end = Swift.min(Swift.max(-1, ((high - first) / spacing).rounded(.down)), last)
            return start <= end ? Int(start)..<(Int(end) + 1) : 0..<0
        }

        /// ∫ f(w) φ((v − w)/s)/s dw over the region: the density of the next look's score at `v`.
        func density(at v: Double, step: Double) -> Double {
            let reach = Self.kernelReach * step
            var total = 0.0
            weighted.withUnsafeBufferPointer { f in
                for i in indices(from: v - reach, to: v + reach) {
                    total += f[i] * AlphaSpendingBoundaries.normalDensity((v - (first + Double(i) * spacing)) / step)
                }
            }
            return total / step
        }

        /// ∫ f(w) (1 − Φ((threshold − w)/s)) dw over the region: the chance of crossing `threshold` next.
        func crossing(above threshold: Double, step: Double) -> Double {
            var total = 0.0
            weighted.withUnsafeBufferPointer { f in
                for i in f.indices {
                    total += f[i] * Normal.sf((threshold - (first + Double(i) * spacing)) / step)
                }
            }
            return total
        }
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
