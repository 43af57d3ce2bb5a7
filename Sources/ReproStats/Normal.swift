#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// The standard normal distribution.
public enum Normal {
    /// Φ(x), the standard normal CDF (from the C library's `erfc`, accurate in the lower tail).
    public static func cdf(_ x: Double) -> Double {
        0.5 * erfc(-x * 0.707_106_781_186_547_524_40)
    }

    /// 1 − Φ(x), accurate in the upper tail.
    public static func sf(_ x: Double) -> Double {
        0.5 * erfc(x * 0.707_106_781_186_547_524_40)
    }

    /// Φ⁻¹(p), the standard normal quantile (`scipy.special.ndtri`).
    ///
    /// Acklam's rational approximation (relative error 1.15e-9) followed by two Halley steps on Φ, which brings
    /// it to full double precision. −∞ for p = 0, +∞ for p = 1, NaN outside [0, 1].
    public static func quantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        // Work in the lower half, where p itself (not 1 − p) carries the precision.
        if p > 0.5 { return -quantile(1 - p) }
        var x = acklam(p)
        for _ in 0..<2 {
            let error = cdf(x) - p
            let u = error * 2.506_628_274_631_000_502_4 * exp(0.5 * x * x)
            x -= u / (1 + 0.5 * x * u)
        }
        return x
    }

    /// Acklam's approximation for 0 < p ≤ 0.5.
    private static func acklam(_ p: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            let numerator = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
            let denominator = (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
            return numerator / denominator
        }
        let q = p - 0.5
        let r = q * q
        let numerator = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        let denominator = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
        return numerator / denominator
    }
}
