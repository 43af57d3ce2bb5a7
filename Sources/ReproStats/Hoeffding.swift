#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Hoeffding's inequality for the mean of n values in a range of width w: P(mean − μ ≥ d) ≤ exp(−2n·d²/w²), for
/// every distribution on the range.
///
/// It is the envelope of the bounded-metric intervals (docs/statistics.md §2a): no interval for such a mean needs
/// to be wider than Hoeffding's, which holds without any model. The skewness correction of those intervals is an
/// expansion in n^(−1/2); for a handful of runs piled on a bound with one run off it (5 accuracies 1, 1, 1, 1, 0.9)
/// its terms are not small and its bounds run far past anything the data could support, down to 0.
enum Hoeffding {
    /// d with exp(−2n·d²/w²) = α: the one-sided bound is mean − d (or mean + d) at level 1 − α.
    static func halfWidth(count: Int, alpha: Double, width: Double) -> Double {
        width * (-log(alpha) / (2 * Double(count))).squareRoot()
    }

    /// The one-sided p-value exp(−2n·d²/w²) of a mean exceeding the hypothesised one by d; 1 when d ≤ 0.
    static func pValue(excess d: Double, count: Int, width: Double) -> Double {
        guard d > 0 else { return 1 }
        let scaled = d / width
        return exp(-2 * Double(count) * scaled * scaled)
    }
}
