#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Log-gamma and log-beta functions, accurate to a few units in the last place for positive arguments.
///
/// The incomplete beta, Student-t and F distributions are built on these. They are implemented here rather
/// than taken from the C library so that the results do not depend on the platform's `lgamma` (whose global
/// `signgam` is also not concurrency-safe).
public enum SpecialFunctions {
    /// Natural logarithm of the gamma function, ln Γ(x), for x > 0.
    ///
    /// Stirling's series with eight correction terms for x ≥ 10; smaller arguments are shifted up with the
    /// recurrence Γ(x + 1) = x Γ(x). Absolute error below about 1e-15 · max(1, |ln Γ(x)|). Returns NaN when x ≤ 0
    /// or x is NaN, and +∞ for x = +∞.
    public static func logGamma(_ x: Double) -> Double {
        guard x > 0 else { return .nan }
        guard x.isFinite else { return x }
        if x >= 10 { return stirlingLogGamma(x) }
        var shifted = x
        var product = 1.0
        while shifted < 10 {
            product *= shifted
            shifted += 1
        }
        return stirlingLogGamma(shifted) - log(product)
    }

    /// Natural logarithm of the beta function, ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0.
    ///
    /// When the larger argument is at least 10 the difference ln Γ(a + b) − ln Γ(a) is computed from Stirling's
    /// series directly, which avoids the cancellation of two large log-gamma values (degrees of freedom in the
    /// tens of thousands occur for 100 000-run cells).
    public static func logBeta(_ a: Double, _ b: Double) -> Double {
        guard a > 0, b > 0 else { return .nan }
        let small = Swift.min(a, b)
        let large = Swift.max(a, b)
        if large < 10 {
            return logGamma(a) + logGamma(b) - logGamma(a + b)
        }
        return logGamma(small) - logGammaDifference(large, shift: small)
    }

    /// ln Γ(a + b) − ln Γ(a) for a > 0, b ≥ 0, without cancellation when a is large.
    static func logGammaDifference(_ a: Double, shift b: Double) -> Double {
        if a < 10 {
            return logGamma(a + b) - logGamma(a)
        }
        // (a+b−½)ln(a+b) − (a−½)ln a − b = (a−½)·log1p(b/a) + b·ln(a+b) − b
        return (a - 0.5) * log1p(b / a) + b * log(a + b) - b + stirlingCorrection(a + b) - stirlingCorrection(a)
    }

    private static let halfLogTwoPi = 0.918_938_533_204_672_741_78

    private static func stirlingLogGamma(_ x: Double) -> Double {
        (x - 0.5) * log(x) - x + halfLogTwoPi + stirlingCorrection(x)
    }

    /// ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π], the Stirling series in 1/x, for x ≥ 10.
    private static func stirlingCorrection(_ x: Double) -> Double {
        let inverse = 1 / x
        let inverseSquared = inverse * inverse
        // Bernoulli-number coefficients B₂ₖ / (2k(2k − 1)), k = 1…8.
        var series = -3617.0 / 122_400.0
        series = series * inverseSquared + 1.0 / 156.0
        series = series * inverseSquared - 691.0 / 360_360.0
        series = series * inverseSquared + 1.0 / 1188.0
        series = series * inverseSquared - 1.0 / 1680.0
        series = series * inverseSquared + 1.0 / 1260.0
        series = series * inverseSquared - 1.0 / 360.0
        series = series * inverseSquared + 1.0 / 12.0
        return series * inverse
    }
}
