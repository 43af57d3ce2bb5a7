#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

extension Interval {
    /// The confidence interval of the mean of a metric declared bounded in [a, b] (an accuracy in [0, 1]),
    /// computed on the logit scale and mapped back, so that it never leaves the metric's range.
    ///
    /// With u = (mean − a)/(b − a) and se_u = sd/((b − a)·√n), the delta method gives the standard error of
    /// logit(u) as se_u / (u(1 − u)); the interval is a + (b − a) · expit(logit(u) ± t((1 + level)/2, n − 1) · se_u / (u(1 − u))).
    /// It is the symmetric t interval to first order when u is far from the bounds, and asymmetric near them
    /// (longer on the side away from the bound), which is what a left-skewed accuracy near 1 needs
    /// (docs/statistics.md §2a, measured in docs/statistics-calibration.md).
    ///
    /// Nil when n < 2, the level is not in (0, 1), sd is negative or not finite, the range is empty or not
    /// finite, or the mean lies outside [a, b]. A mean on a bound (every run at the bound, sd = 0) gives the
    /// point interval.
    public static func logitMean(
        mean: Double, sd: Double, count: Int, level: Double, lowerBound a: Double, upperBound b: Double
    ) -> Interval? {
        guard count >= 2, level > 0, level < 1, sd >= 0, sd.isFinite, mean.isFinite, a.isFinite, b.isFinite, a < b,
            mean >= a, mean <= b
        else { return nil }
        let width = b - a
        let u = (mean - a) / width
        if sd == 0 { return Interval(lower: mean, upper: mean) }
        guard u > 0, u < 1 else { return nil }
        let quantile = StudentT(degreesOfFreedom: count - 1).quantile(0.5 + 0.5 * level)
        let half = logitHalfWidth(u: u, seU: sd / (width * Double(count).squareRoot()), quantile: quantile)
        let center = log(u) - log1p(-u)
        return Interval(lower: a + width * expit(center - half), upper: a + width * expit(center + half))
    }

    /// t · se_u / (u(1 − u)), the half-width on the logit scale.
    static func logitHalfWidth(u: Double, seU: Double, quantile: Double) -> Double {
        quantile * seU / (u * (1 - u))
    }

    /// 1 / (1 + e^(−x)), written so that neither tail overflows.
    static func expit(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }
}
