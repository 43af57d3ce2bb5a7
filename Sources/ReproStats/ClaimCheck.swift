/// The check of one claim against the metric values of n runs: statistics.md §2.
///
/// Create it with ``evaluate(values:claim:nMin:)``. Quantities that are undefined for the data are nil.
///
/// sd = 0 (all runs identical, e.g. fully deterministic training): the intervals collapse to the mean, so the
/// verdict is decided by where the mean lies (never `inconclusive`); the t statistic, its p-value, the TOST p
/// and the standardized gap would be infinite or 0/0 and are nil.
public struct ClaimCheck: Codable, Sendable, Hashable {
    /// Default minimum number of runs for a verdict.
    public static let defaultMinimumRuns = 5
    /// `runs_needed` is searched up to this many runs; beyond it the verdict counts as unreachable (nil).
    public static let runsNeededLimit = 10_000_000

    /// The claim as given (its `tolerance` nil when the default applies).
    public let claim: Claim
    /// δ used: the claim's tolerance or the default 2 % of |c| (shown in every report).
    public let tolerance: Double
    /// Whether `tolerance` is the 2 % default because the spec gave none.
    public let toleranceIsDefault: Bool
    /// Number of finite run values.
    public let n: Int
    /// Minimum runs for a verdict (at least 2, since a t interval needs an sd).
    public let nMin: Int
    /// Mean of the runs.
    public let mean: Double?
    /// Sample sd (ddof = 1).
    public let sd: Double?
    /// mean − c, sign as measured.
    public let gap: Double?
    /// (mean − c) / sd; nil when sd is 0 or undefined.
    public let standardizedGap: Double?
    /// Percentage of runs ≤ c (for `lower`: ≥ c); `scipy.stats.percentileofscore(x, c, kind='weak')`.
    public let claimPercentile: Double?
    /// One-sample t-test of mean = c (`scipy.stats.ttest_1samp`), two-sided.
    public let tTest: TTest?
    /// TOST equivalence p within ±δ: max of the one-sided p-values against c − δ and c + δ.
    public let tostP: Double?
    /// 90 % interval of the mean; its ends are the one-sided 95 % bounds used for `reproduced`.
    public let ci90Mean: Interval?
    /// 95 % interval of the mean, used for `not_reproduced`.
    public let ci95Mean: Interval?
    /// How `ci90_mean` and `ci95_mean` were computed: `t` (mean ± t·se) or `logit` (on the logit scale of
    /// the metric's declared range, docs/statistics.md §2a).
    public let intervalScale: IntervalScale?

    /// The scale of a claim's intervals.
    public enum IntervalScale: String, Codable, Sendable, Hashable {
        /// mean ± t·sd/√n.
        case t
        /// Interval on the logit scale of a bounded metric (delta method with the skewness correction of
        /// docs/statistics.md §2a), mapped back into its range.
        case logit
    }
    /// Expected best of 1 run (the mean), Tang et al. without replacement.
    public let expectedMax1: Double?
    /// Expected best of 3 runs.
    public let expectedMax3: Double?
    /// Expected best of 5 runs.
    public let expectedMax5: Double?
    /// Expected minimum of 5 runs: the best of 5 for a `lower` claim.
    public let expectedMin5: Double?
    /// "Claim at or above the expected best of 5 seeds" (possible seed selection): c ≥ expected_max_5 for
    /// `higher`, c ≤ expected_min_5 for `lower`, either for `equal`. False when n < 5.
    public let possibleSeedSelection: Bool
    /// The verdict.
    public let verdict: Verdict
    /// For `inconclusive` only: the smallest n at which the current mean and sd would give a decisive verdict;
    /// nil when no n up to ``runsNeededLimit`` does (the mean sits on a decision boundary).
    public let runsNeeded: Int?

    /// Result of a one-sample t-test.
    public struct TTest: Codable, Sendable, Hashable {
        /// t = (mean − c) / se.
        public let t: Double
        /// Degrees of freedom, n − 1.
        public let df: Int
        /// Two-sided p-value.
        public let p: Double
    }

    enum CodingKeys: String, CodingKey {
        case claim, tolerance
        case toleranceIsDefault = "tolerance_is_default"
        case n
        case nMin = "n_min"
        case mean, sd, gap
        case standardizedGap = "standardized_gap"
        case claimPercentile = "claim_percentile"
        case tTest = "t_test"
        case tostP = "tost_p"
        case ci90Mean = "ci90_mean"
        case ci95Mean = "ci95_mean"
        case intervalScale = "interval_scale"
        case expectedMax1 = "expected_max_1"
        case expectedMax3 = "expected_max_3"
        case expectedMax5 = "expected_max_5"
        case expectedMin5 = "expected_min_5"
        case possibleSeedSelection = "possible_seed_selection"
        case verdict
        case runsNeeded = "runs_needed"
    }

    /// Checks `claim` against the metric values of the runs (one per successful (seed, replica) run).
    /// - Parameters:
    ///   - values: run values; non-finite ones are ignored.
    ///   - claim: the claim; a nil tolerance means 2 % of |c|.
    ///   - nMin: fewer runs than this give `insufficient_runs` (default 5; values below 2 act as 2).
    public static func evaluate(values: [Double], claim: Claim, nMin: Int = defaultMinimumRuns) -> ClaimCheck {
        ClaimCheck(values: values.filter(\.isFinite), claim: claim, nMin: Swift.max(nMin, 2))
    }

    private init(values: [Double], claim: Claim, nMin: Int) {
        let c = claim.value
        let delta = claim.effectiveTolerance
        let moments = SampleMoments(values)
        let sorted = values.sorted()
        self.claim = claim
        tolerance = delta
        toleranceIsDefault = claim.tolerance == nil
        n = values.count
        self.nMin = nMin
        mean = moments.mean
        sd = moments.sd
        gap = moments.mean.map { $0 - c }.flatMap { $0.isFinite ? $0 : nil }

        if n > 0 {
            let counted = values.count { claim.direction == .lower ? $0 >= c : $0 <= c }
            claimPercentile = 100 * Double(counted) / Double(n)
        } else {
            claimPercentile = nil
        }

        if let mean = moments.mean, let sd = moments.sd, sd > 0 {
            let se = sd / Double(n).squareRoot()
            let distribution = StudentT(degreesOfFreedom: n - 1)
            let t = (mean - c) / se
            // Values near ±1e308 can overflow these ratios: such a statistic is left out, never ±∞.
            let standardized = (mean - c) / sd
            standardizedGap = standardized.isFinite ? standardized : nil
            tTest = t.isFinite ? TTest(t: t, df: n - 1, p: distribution.twoSidedPValue(t)) : nil
            let pAboveLower = distribution.sf((mean - (c - delta)) / se)
            let pBelowUpper = distribution.cdf((mean - (c + delta)) / se)
            let p = Swift.max(pAboveLower, pBelowUpper)
            tostP = p.isFinite ? p : nil
        } else {
            (standardizedGap, tTest, tostP) = (nil, nil, nil)
        }
        if let mean = moments.mean, let sd = moments.sd {
            let rule = DecisionRule(
                direction: claim.direction, claimed: c, tolerance: delta, mean: mean, sd: sd, range: claim.range)
            if rule.usesLogitScale {
                ci90Mean = rule.interval(runs: n, quantile: 0.95)
                ci95Mean = rule.interval(runs: n, quantile: 0.975)
                intervalScale = .logit
            } else {
                ci90Mean = Interval.studentMean(mean: mean, sd: sd, count: n, level: 0.90)
                ci95Mean = Interval.studentMean(mean: mean, sd: sd, count: n, level: 0.95)
                intervalScale = n >= 2 ? .t : nil
            }
        } else {
            (ci90Mean, ci95Mean, intervalScale) = (nil, nil, nil)
        }

        expectedMax1 = ExpectedMaximum.ofSorted(sorted, k: 1)
        expectedMax3 = ExpectedMaximum.ofSorted(sorted, k: 3)
        expectedMax5 = ExpectedMaximum.ofSorted(sorted, k: 5)
        expectedMin5 = ExpectedMaximum.minimumOfSorted(sorted, k: 5)
        if let best = expectedMax5, let worst = expectedMin5 {
            switch claim.direction {
            case .higher: possibleSeedSelection = c >= best
            case .lower: possibleSeedSelection = c <= worst
            case .equal: possibleSeedSelection = c >= best || c <= worst
            }
        } else {
            possibleSeedSelection = false
        }

        guard n >= nMin, let mean = moments.mean, let sd = moments.sd else {
            verdict = .insufficientRuns
            runsNeeded = nil
            return
        }
        let rule = DecisionRule(
            direction: claim.direction, claimed: c, tolerance: delta, mean: mean, sd: sd, range: claim.range)
        verdict = rule.verdict(runs: n)
        runsNeeded = verdict == .inconclusive ? rule.runsNeeded(after: n, limit: Self.runsNeededLimit) : nil
    }
}
