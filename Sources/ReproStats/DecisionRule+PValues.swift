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
    /// With the pivot z(L) = (mean − L)/se (on the logit scale for a bounded metric: (logit u − logit u_L)/se_η)
    /// and t = Student-t with n − 1 df:
    /// - higher: reproduced p = P(T ≥ z(c − δ)), not_reproduced p = 2·P(T ≤ z(c − δ));
    /// - lower: reproduced p = P(T ≤ z(c + δ)), not_reproduced p = 2·P(T ≥ z(c + δ));
    /// - equal: reproduced p = the TOST p max(P(T ≥ z(c − δ)), P(T ≤ z(c + δ))), not_reproduced
    ///   p = 2·min(P(T ≤ z(c − δ)), P(T ≥ z(c + δ))).
    /// With sd = 0 the verdict is certain: p = 0 for the side it took and 1 for the other.
    func pValues(runs n: Int) -> (reproduced: Double, notReproduced: Double) {
        guard sd > 0 else {
            switch verdict(runs: n) {
            case .reproduced: return (0, 1)
            case .notReproduced: return (1, 0)
            default: return (1, 1)
            }
        }
        let t = StudentT(degreesOfFreedom: n - 1)
        let low = pivot(claimed - tolerance, runs: n)
        let high = pivot(claimed + tolerance, runs: n)
        switch direction {
        case .higher:
            return (t.sf(low), Swift.min(1, 2 * t.cdf(low)))
        case .lower:
            return (t.cdf(high), Swift.min(1, 2 * t.sf(high)))
        case .equal:
            return (Swift.max(t.sf(low), t.cdf(high)), Swift.min(1, 2 * Swift.min(t.cdf(low), t.sf(high))))
        }
    }

    /// (estimate − limit)/se on the scale the intervals use; ±∞ for a limit outside a bounded metric's range.
    func pivot(_ limit: Double, runs n: Int) -> Double {
        let root = Double(n).squareRoot()
        guard usesLogitScale, let range else { return (mean - limit) / (sd / root) }
        let width = range.upper - range.lower
        let u = (mean - range.lower) / width
        let uLimit = (limit - range.lower) / width
        if uLimit <= 0 { return .infinity }
        if uLimit >= 1 { return -.infinity }
        let se = sd / (width * root) / (u * (1 - u))
        return ((log(u) - log1p(-u)) - (log(uLimit) - log1p(-uLimit))) / se
    }
}
