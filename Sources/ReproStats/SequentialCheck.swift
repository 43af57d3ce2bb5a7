/// The adaptive seed schedule of a study, `matrix.seeds: {adaptive: {min, max, step}}`: runs start with `min`
/// seeds per dataset and grow by `step` while a claim on the dataset is inconclusive, up to `max`.
public struct AdaptiveSchedule: Codable, Sendable, Hashable {
    public var min: Int
    public var max: Int
    public var step: Int

    public init(min: Int, max: Int, step: Int) {
        self.min = min
        self.max = max
        self.step = step
    }

    /// The planned looks: min, min + step, …, and max itself (the last step may be shorter).
    public var looks: [Int] {
        guard min >= 1, step >= 1, max >= min else { return [] }
        var result = Array(stride(from: min, through: max, by: step))
        if result.last != max { result.append(max) }
        return result
    }
}

/// A claim decided with a group-sequential design over the looks of an adaptive study (docs/statistics.md §2c):
/// Lan–DeMets O'Brien–Fleming-type alpha spending for the `reproduced` test (one-sided α = 0.05, the fixed
/// rule's level) and, separately, for the `not_reproduced` test (one-sided α = 0.025, the fixed rule's 95 %
/// two-sided bound). At a look the claim is decided when the test's one-sided p-value (from the same
/// t statistics as ``ClaimCheck``) is at most the look's nominal level 1 − Φ(b_k); the boundaries are
/// non-binding, each computed as if the other did not exist, which keeps both error rates at or below their α.
public struct SequentialCheck: Codable, Sendable, Hashable {
    /// One-sided α of the `reproduced` test over the whole study.
    public static let reproducedAlpha = 0.05
    /// One-sided α of the `not_reproduced` test over the whole study.
    public static let notReproducedAlpha = 0.025

    /// One look at the data.
    public struct Look: Codable, Sendable, Hashable {
        /// Runs counted at this look.
        public let n: Int
        /// n / (the most runs the study may use), capped at 1.
        public let informationFraction: Double
        /// z boundary and nominal one-sided level of the `reproduced` test at this look.
        public let reproducedBound: Double?
        public let reproducedNominalAlpha: Double
        /// α of the `reproduced` test spent up to this look.
        public let reproducedSpentAlpha: Double
        /// The same for `not_reproduced`.
        public let notReproducedBound: Double?
        public let notReproducedNominalAlpha: Double
        public let notReproducedSpentAlpha: Double
        /// One-sided p-values of the two tests at this look (nil with fewer than 2 runs).
        public let reproducedP: Double?
        public let notReproducedP: Double?
        /// The verdict at this look.
        public let verdict: Verdict

        enum CodingKeys: String, CodingKey {
            case n
            case informationFraction = "information_fraction"
            case reproducedBound = "reproduced_bound"
            case reproducedNominalAlpha = "reproduced_nominal_alpha"
            case reproducedSpentAlpha = "reproduced_spent_alpha"
            case notReproducedBound = "not_reproduced_bound"
            case notReproducedNominalAlpha = "not_reproduced_nominal_alpha"
            case notReproducedSpentAlpha = "not_reproduced_spent_alpha"
            case reproducedP = "reproduced_p"
            case notReproducedP = "not_reproduced_p"
            case verdict
        }
    }

    /// Why the looks ended.
    public enum StopReason: String, Codable, Sendable, Hashable {
        /// A boundary was crossed: the claim is decided.
        case decided
        /// The most runs allowed were reached without crossing a boundary.
        case reachedMaximum = "reached_maximum"
        /// More runs are still to come (the study is running).
        case continuing
    }

    /// The looks so far, in order.
    public let looks: [Look]
    /// The verdict of the last look.
    public let verdict: Verdict
    /// Why it stopped.
    public let stopReason: StopReason

    enum CodingKeys: String, CodingKey {
        case looks, verdict
        case stopReason = "stop_reason"
    }

    /// Evaluates the claim at each look: `values` in the order the runs were planned (seed order), `lookSizes`
    /// the run counts at which the study looked (increasing), `maximumRuns` the most it may use. Looks stop at the
    /// first decision.
    public static func evaluate(values: [Double], lookSizes: [Int], maximumRuns: Int, claim: Claim, nMin: Int = 2)
        -> SequentialCheck
    {
        let sizes = lookSizes.filter { $0 >= 1 && $0 <= values.count }
        let fractions = sizes.map { Swift.min(Double($0) / Double(Swift.max(maximumRuns, 1)), 1) }
        // Fractions must increase; a repeated size (no new run came back) is one look.
        var uniqueSizes: [Int] = []
        var uniqueFractions: [Double] = []
        for (size, fraction) in zip(sizes, fractions) where uniqueFractions.last.map({ fraction > $0 }) ?? true {
            uniqueSizes.append(size)
            uniqueFractions.append(fraction)
        }
        let reproducing = AlphaSpendingBoundaries(fractions: uniqueFractions, alpha: reproducedAlpha)
        let refuting = AlphaSpendingBoundaries(fractions: uniqueFractions, alpha: notReproducedAlpha)
        return evaluate(
            values: values, sizes: uniqueSizes, reproducing: reproducing, refuting: refuting, claim: claim, nMin: nMin)
    }

    /// The same with boundaries already computed (the calibration reuses one design for many studies).
    public static func evaluate(
        values: [Double], sizes: [Int], reproducing: AlphaSpendingBoundaries, refuting: AlphaSpendingBoundaries,
        claim: Claim, nMin: Int = 2
    ) -> SequentialCheck {
        var looks: [Look] = []
        let reproducedLevels = reproducing.nominalAlpha
        let refutedLevels = refuting.nominalAlpha
        var verdict = Verdict.insufficientRuns
        var reason = StopReason.continuing
        for (index, size) in sizes.enumerated() {
            let prefix = Array(values.prefix(size))
            let check = ClaimCheck.evaluate(values: prefix, claim: claim, nMin: nMin)
            let p = check.decisionPValues
            let pReproduced = p?.reproduced
            let pRefuted = p.map { $0.notReproduced / 2 }
            if let pReproduced, let pRefuted {
                if pReproduced <= reproducedLevels[index] {
                    verdict = .reproduced
                } else if pRefuted < refutedLevels[index] {
                    verdict = .notReproduced
                } else {
                    verdict = .inconclusive
                }
            } else {
                verdict = check.verdict == .insufficientRuns ? .insufficientRuns : .inconclusive
            }
            looks.append(
                Look(
                    n: size, informationFraction: reproducing.fractions[index],
                    reproducedBound: reproducing.bounds[index].isFinite ? reproducing.bounds[index] : nil,
                    reproducedNominalAlpha: reproducedLevels[index],
                    reproducedSpentAlpha: reproducing.cumulativeAlpha[index],
                    notReproducedBound: refuting.bounds[index].isFinite ? refuting.bounds[index] : nil,
                    notReproducedNominalAlpha: refutedLevels[index],
                    notReproducedSpentAlpha: refuting.cumulativeAlpha[index],
                    reproducedP: pReproduced, notReproducedP: pRefuted, verdict: verdict))
            if verdict.isDecided {
                reason = .decided
                break
            }
            if reproducing.fractions[index] >= 1 { reason = .reachedMaximum }
        }
        return SequentialCheck(looks: looks, verdict: verdict, stopReason: reason)
    }
}
