#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// The regularized incomplete beta function I_x(a, b) and its complement.
///
/// Evaluated with the continued fraction of Numerical Recipes §6.4 (modified Lentz algorithm), using the symmetry
/// I_x(a, b) = 1 − I_{1−x}(b, a) on the side where the fraction converges fast. Both x and 1 − x are carried
/// so that tails close to 0 or 1 keep full relative precision: the Student-t and F tail probabilities are
/// read straight from whichever of I and 1 − I is small.
public enum IncompleteBeta {
    /// I_x(a, b) for 0 ≤ x ≤ 1 and a, b > 0 (relative error about 1e-14). NaN for arguments outside that domain.
    public static func regularized(_ x: Double, a: Double, b: Double) -> Double {
        evaluate(x: x, y: 1 - x, a: a, b: b).value
    }

    /// 1 − I_x(a, b), computed without cancellation when I_x(a, b) is close to 1.
    public static func complement(_ x: Double, a: Double, b: Double) -> Double {
        evaluate(x: x, y: 1 - x, a: a, b: b).complement
    }

    /// I_x(a, b) and 1 − I_x(a, b), where the caller passes y = 1 − x computed without rounding loss.
    static func evaluate(x: Double, y: Double, a: Double, b: Double) -> (value: Double, complement: Double) {
        guard a > 0, b > 0, x >= 0, y >= 0, !x.isNaN, !y.isNaN else { return (.nan, .nan) }
        if x == 0 { return (0, 1) }
        if y == 0 { return (1, 0) }
        let logX = x > 0.5 ? log1p(-y) : log(x)
        let logY = y > 0.5 ? log1p(-x) : log(y)
        let logFront = a * logX + b * logY - SpecialFunctions.logBeta(a, b)
        if x < (a + 1) / (a + b + 2) {
            let value = exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
            return (value, 1 - value)
        }
        let complement = exp(logFront) * continuedFraction(x: y, a: b, b: a) / b
        return (1 - complement, complement)
    }

    /// The continued fraction for I_x(a, b) (Numerical Recipes `betacf`), by the modified Lentz method.
    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        let tolerance = 1e-15
        let sum = a + b
        let aPlusOne = a + 1
        let aMinusOne = a - 1
        var c = 1.0
        var d = 1 - sum * x / aPlusOne
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        var m = 1.0
        // Convergence takes O(√max(a, b)) terms; the cap only guards against pathological input.
        while m < 100_000 {
            let m2 = 2 * m
            var numerator = m * (b - m) * x / ((aMinusOne + m2) * (a + m2))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            numerator = -(a + m) * (sum + m) * x / ((a + m2) * (aPlusOne + m2))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            result *= delta
            if abs(delta - 1) < tolerance { break }
            m += 1
        }
        return result
    }
}
