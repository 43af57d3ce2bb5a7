#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

extension Interval {
    /// The confidence interval of the mean of a metric declared bounded in [a, b] (an accuracy in [0, 1]),
    /// computed on the logit scale with a second-order skewness correction and mapped back, so that it never
    /// leaves the metric's range.
    ///
    /// With u = (mean − a)/(b − a), σ = sd/(b − a) and se = σ/(√n·u(1 − u)) (the delta method's standard error of
    /// logit u), the statistic T = (logit u − logit μ)/se is passed through Hall's transformation g and compared
    /// with the t distribution with ν degrees of freedom of ``LogitSkewCorrection``:
    /// the interval is a + (b − a) · expit(logit(u) − g⁻¹(±q) · se), q = t((1 + level)/2, ν).
    /// Far from the bounds g is the identity and ν = n − 1 (the delta-method interval, the symmetric t interval to
    /// first order); near them the interval is asymmetric, longer on the side away from the bound, and wider where
    /// the values must be skewed (docs/statistics.md §2a). Neither end goes beyond Hoeffding's interval at the same
    /// level, mean ∓ (b − a)·√(ln(2/(1 − level))/(2n)), which holds for every distribution on [a, b]
    /// (``Hoeffding``). It contains the mean for every level ≥ 0.5: g(0) = b and |b| ≤ 1/3 < q.
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
        let scaled = sd / width
        let correction = LogitSkewCorrection(u: u, sd: scaled, count: count)
        let quantile = correction.reference.quantile(0.5 + 0.5 * level)
        let se = logitStandardError(u: u, sd: scaled, count: count)
        let center = log(u) - log1p(-u)
        let lower = a + width * expit(center - correction.transformation.inverse(quantile) * se)
        let upper = a + width * expit(center - correction.transformation.inverse(-quantile) * se)
        let envelope = Hoeffding.halfWidth(count: count, alpha: 0.5 - 0.5 * level, width: width)
        return Interval(lower: Swift.max(lower, mean - envelope), upper: Swift.min(upper, mean + envelope))
    }

    /// σ/(√n·u(1 − u)), the delta method's standard error of logit(u) for a mean u of n values with sd σ.
    static func logitStandardError(u: Double, sd: Double, count: Int) -> Double {
        sd / (Double(count).squareRoot() * u * (1 - u))
    }

    /// 1 / (1 + e^(−x)), written so that neither tail overflows.
    static func expit(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }
}
