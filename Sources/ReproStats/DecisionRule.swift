/// The verdict rule of statistics.md §2 at α = 0.05, for a given mean and sd as a function of the number of
/// runs, so that `runs_needed` can ask "at which n would these numbers be decisive?".
struct DecisionRule: Sendable {
    let direction: Claim.Direction
    let claimed: Double
    let tolerance: Double
    let mean: Double
    let sd: Double
    /// The metric's declared range: intervals on its logit scale (docs/statistics.md §2a). Nil: t intervals.
    var range: Interval? = nil

    /// The two-sided interval of the mean at `level` with n runs: the t interval, or the logit-scale one when
    /// the metric is bounded and the mean lies inside its range.
    /// The t bounds are not checked for overflow here (values near ±1e308 give infinite bounds, which still
    /// compare correctly), as the verdict always did.
    /// `probability` is the t quantile's: 0.95 for the 90 % interval, 0.975 for the 95 % one.
    func interval(runs n: Int, quantile probability: Double) -> Interval {
        if let range, let logit = Interval.logitMean(
            mean: mean, sd: sd, count: n, level: 2 * probability - 1, lowerBound: range.lower, upperBound: range.upper)
        {
            return logit
        }
        let half = StudentT(degreesOfFreedom: n - 1).quantile(probability) * (sd / Double(n).squareRoot())
        return Interval(lower: mean - half, upper: mean + half)
    }

    /// Whether the logit-scale intervals apply (a bounded metric whose mean lies inside its range).
    var usesLogitScale: Bool {
        guard let range else { return false }
        return Interval.logitMean(mean: mean, sd: sd, count: 2, level: 0.9, lowerBound: range.lower, upperBound: range.upper) != nil
    }

    /// The verdict with n runs (n ≥ 2).
    ///
    /// - higher: reproduced when the one-sided 95 % lower bound ≥ c − δ; not_reproduced when the two-sided 95 %
    ///   upper bound < c − δ.
    /// - lower: reproduced when the one-sided 95 % upper bound ≤ c + δ; not_reproduced when the two-sided 95 %
    ///   lower bound > c + δ.
    /// - equal: reproduced when the 90 % interval lies inside [c − δ, c + δ]; not_reproduced when the 95 %
    ///   interval lies wholly outside it.
    ///
    /// The bounds are mean ∓ t·sd/√n, or their logit-scale counterparts for a bounded metric.
    func verdict(runs n: Int) -> Verdict {
        let ninety = interval(runs: n, quantile: 0.95)
        let ninetyFive = interval(runs: n, quantile: 0.975)
        let lowLimit = claimed - tolerance
        let highLimit = claimed + tolerance
        switch direction {
        case .higher:
            if ninety.lower >= lowLimit { return .reproduced }
            if ninetyFive.upper < lowLimit { return .notReproduced }
        case .lower:
            if ninety.upper <= highLimit { return .reproduced }
            if ninetyFive.lower > highLimit { return .notReproduced }
        case .equal:
            if ninety.lower >= lowLimit && ninety.upper <= highLimit { return .reproduced }
            if ninetyFive.upper < lowLimit || ninetyFive.lower > highLimit { return .notReproduced }
        }
        return .inconclusive
    }

    /// The smallest n > `current` with a decisive verdict, or nil if none up to `limit`.
    ///
    /// The half-widths t·sd/√n shrink as n grows, so once decisive a verdict stays decisive: an exponential
    /// search followed by bisection needs about 2·log₂(n) verdict evaluations. On the logit scale the statistic
    /// compared with t (whose df grow with n) is Hall's g(T) = √n·K + B/√n (K fixed by mean, sd and limit; B = γ/6
    /// with γ the beta skewness of ``LogitSkewCorrection``), which can shrink with n only while B > K·n; a bound
    /// decisive at n has √n·K + B/√n ≥ 1.645, which then needs B > 0.82·√n, and B ≤ √n₀/3 for the n₀ ≤ n runs
    /// measured (|γ| ≤ 2√n₀ for values in the range, approached by one value off a bound and the rest on it), so it
    /// stays decisive there too; Hoeffding's envelope only narrows with n.
    func runsNeeded(after current: Int, limit: Int) -> Int? {
        var undecided = current
        var candidate = current + 1
        while verdict(runs: candidate) == .inconclusive {
            guard candidate < limit else { return nil }
            undecided = candidate
            candidate = Swift.min(candidate * 2, limit)
        }
        while candidate - undecided > 1 {
            let middle = undecided + (candidate - undecided) / 2
            if verdict(runs: middle) == .inconclusive { undecided = middle } else { candidate = middle }
        }
        return candidate
    }
}
