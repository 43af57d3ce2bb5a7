#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

extension DecisionRule {
    /// The p-values behind the verdict with n runs: the verdict is `reproduced` exactly when `reproduced` ≤ 0.05
    /// and `not_reproduced` exactly when `notReproduced` < 0.05, so a test at another level α (Holm's α/k) is
    /// the same rule with α in place of 0.05.
    ///
    /// With z(L) = (mean − L)/se and T Student-t with n − 1 df, P(above L) = P(T ≥ z(L)) and P(below L) = P(T ≤ z(L));
    /// on the logit scale of a bounded metric z(L) = Hall's g((logit u − logit u_L)/se_η), T has the df of
    /// ``LogitSkewCorrection``, and each is the smaller of that and Hoeffding's p-value (the intervals' envelope):
    /// - higher: reproduced p = P(above c − δ), not_reproduced p = 2·P(below c − δ);
    /// - lower: reproduced p = P(below c + δ), not_reproduced p = 2·P(above c + δ);
    /// - equal: reproduced p = the TOST p max(P(above c − δ), P(below c + δ)), not_reproduced
    ///   p = 2·min(P(below c − δ), P(above c + δ)).
    /// With sd = 0 the verdict is certain: p = 0 for the side it took and 1 for the other.
    func pValues(runs n: Int) -> (reproduced: Double, notReproduced: Double) {
        guard sd > 0 else {
            switch verdict(runs: n) {
            case .reproduced: return (0, 1)
            case .notReproduced: return (1, 0)
            default: return (1, 1)
            }
        }
        let low = tails(claimed - tolerance, runs: n)
        let high = tails(claimed + tolerance, runs: n)
        switch direction {
        case .higher:
            return (low.above, Swift.min(1, 2 * low.below))
        case .lower:
            return (high.below, Swift.min(1, 2 * high.above))
        case .equal:
            return (Swift.max(low.above, high.below), Swift.min(1, 2 * Swift.min(low.below, high.above)))
        }
    }

    /// The one-sided p-values of "the mean is above `limit`" and "below `limit`", on the scale the intervals use, so
    /// that a p-value passes α exactly when the interval's bound at level 1 − 2α passes the limit.
    func tails(_ limit: Double, runs n: Int) -> (above: Double, below: Double) {
        guard let scale = logitScale(runs: n), let range else {
            let t = StudentT(degreesOfFreedom: n - 1)
            let z = (mean - limit) / (sd / Double(n).squareRoot())
            return (t.sf(z), t.cdf(z))
        }
        let width = range.upper - range.lower
        let uLimit = (limit - range.lower) / width
        let z: Double
        if uLimit <= 0 {
            z = .infinity
        } else if uLimit >= 1 {
            z = -.infinity
        } else {
            let u = scale.u
            let se = Interval.logitStandardError(u: u, sd: scale.sd, count: n)
            z = scale.correction.transformation.transform(((log(u) - log1p(-u)) - (log(uLimit) - log1p(-uLimit))) / se)
        }
        let t = scale.correction.reference
        return (
            Swift.min(t.sf(z), Hoeffding.pValue(excess: mean - limit, count: n, width: width)),
            Swift.min(t.cdf(z), Hoeffding.pValue(excess: limit - mean, count: n, width: width))
        )
    }

    /// The mean and sd in units of the range and the skewness correction, when the verdict uses the logit scale
    /// and sd > 0 (with sd = 0 there is no statistic: the point interval decides).
    func logitScale(runs n: Int) -> (u: Double, sd: Double, correction: LogitSkewCorrection)? {
        guard sd > 0, usesLogitScale, let range else { return nil }
        let width = range.upper - range.lower
        let u = (mean - range.lower) / width
        let scaled = sd / width
        return (u, scaled, LogitSkewCorrection(u: u, sd: scaled, count: n))
    }
}
