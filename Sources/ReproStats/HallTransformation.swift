#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Hall's (1992) monotone transformation of a studentized statistic, g(T) = T + a·T² + a²·T³/3 + b.
///
/// A studentized statistic of skewed data is skewed too: P(T ≤ x) = Φ(x) + n^(−1/2)·(A·x² + B)·φ(x) + O(1/n),
/// so a t quantile puts too much of the error on one side. With a = A/√n and b = B/√n, g(T) has no n^(−1/2) term
/// (P. Hall, "On the removal of skewness by transformation", JRSS B 54, 1992). The cubic term makes g increasing
/// everywhere, g(T) = ((1 + a·T)³ − 1)/(3a) + b with derivative (1 + a·T)² ≥ 0, so it inverts in closed form and
/// an interval built from g⁻¹ says exactly what the test built from g says (`DecisionRule.pValues` relies on it).
/// With a = b = 0 it is the identity.
struct HallTransformation: Sendable, Hashable {
    /// Coefficient of T² (A/√n).
    let a: Double
    /// Shift (B/√n).
    let b: Double

    /// g(T).
    func transform(_ t: Double) -> Double {
        t * (1 + a * t * (1 + a * t / 3)) + b
    }

    /// g⁻¹(s) = ((1 + 3a(s − b))^(1/3) − 1)/a.
    func inverse(_ s: Double) -> Double {
        let y = s - b
        let z = 3 * a * y
        let root = cbrt(1 + z)
        // x − 1 = (x³ − 1)/(x² + x + 1) avoids the cancellation of cbrt(1 + z) − 1 when a·y is small (and a = 0);
        // far from 1 the plain form keeps infinite arguments infinite.
        if abs(z) < 1 { return 3 * y / (root * root + root + 1) }
        return (root - 1) / a
    }
}
