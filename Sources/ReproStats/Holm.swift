/// Holm's step-down adjustment of a study's claim verdicts (family-wise α across its claims): statistics.md §2b
/// of the project copy (docs/statistics.md).
///
/// Each claim with a verdict contributes one p-value, the smaller of its `reproduced` and `not_reproduced`
/// p-values (at most one of them can be below 0.5, so the side is never ambiguous). Sorted ascending, the
/// k-th (from 1) is decided when it and every smaller one pass p ≤ α/(m − k + 1); the first that fails and all
/// after it are `inconclusive`. With one claim this is the per-claim verdict; with m claims the chance that
/// any of them is wrongly decided is at most α (Holm 1979), where the per-claim verdicts only bound each
/// claim's own error.
public enum Holm {
    /// The family-wise α of the adjusted verdicts.
    public static let familyAlpha = 0.05

    /// The adjusted verdict of each check, in the order given. `insufficient_runs` stays as it is and is not
    /// part of the family; the family size is the number of the others.
    public static func verdicts(_ checks: [ClaimCheck], alpha: Double = familyAlpha) -> [Verdict] {
        var result = checks.map { $0.verdict == .insufficientRuns ? Verdict.insufficientRuns : Verdict.inconclusive }
        var family: [(index: Int, p: Double, side: Verdict)] = []
        for (index, check) in checks.enumerated() {
            guard let p = check.decisionPValues else { continue }
            family.append(
                p.reproduced <= p.notReproduced
                    ? (index, p.reproduced, .reproduced) : (index, p.notReproduced, .notReproduced))
        }
        family.sort { ($0.p, $0.index) < ($1.p, $1.index) }
        let size = family.count
        for (rank, member) in family.enumerated() {
            let threshold = alpha / Double(size - rank)
            // `not_reproduced` needs p < α in the per-claim rule, `reproduced` p ≤ α.
            let passes = member.side == .reproduced ? member.p <= threshold : member.p < threshold
            guard passes else { break }
            result[member.index] = member.side
        }
        return result
    }

    /// How many claims form the family (those with a verdict other than `insufficient_runs`).
    public static func familySize(_ checks: [ClaimCheck]) -> Int {
        checks.count { $0.decisionPValues != nil }
    }
}

extension ClaimCheck {
    /// The p-values of the `reproduced` and `not_reproduced` tests behind the verdict (see
    /// `DecisionRule.pValues`), nil for `insufficient_runs`.
    public var decisionPValues: (reproduced: Double, notReproduced: Double)? {
        guard verdict != .insufficientRuns, let mean, let sd else { return nil }
        let rule = DecisionRule(
            direction: claim.direction, claimed: claim.value, tolerance: tolerance, mean: mean, sd: sd, range: claim.range)
        return rule.pValues(runs: n)
    }
}
