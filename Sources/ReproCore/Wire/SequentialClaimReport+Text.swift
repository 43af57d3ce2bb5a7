import Foundation

/// The words and table cells the report's text and HTML renderings (the CLI's `repro report`, the dashboard's
/// study page) and its explanations share for an adaptive claim, so they say the same thing.
extension SequentialClaimReport {
    /// Why the looks ended: "decided at the look after 10 seeds".
    public var stopSentence: String {
        switch stopReason {
        case .decided: "decided at the look after \(looks.last?.seeds ?? 0) seeds"
        case .reachedMaximum: "stopped undecided at the maximum of \(maxSeeds) seeds"
        case .noNewRuns: "stopped: the last step added no value for this claim"
        case .noClaims: "stopped: its dataset has no claim"
        case .cancelled: "stopped: the study was cancelled"
        case .continuing: "continuing: more seeds are running"
        }
    }

    /// "looks at 5, 10 seeds of at most 20" or "no look yet, at most 20 seeds".
    public var looksSentence: String {
        guard !looks.isEmpty else { return "no look yet, at most \(maxSeeds) seeds" }
        return "looks at \(looks.map { String($0.seeds) }.joined(separator: ", ")) seeds of at most \(maxSeeds)"
    }

    /// Column headings of ``AdaptiveLook/cells``.
    public static let lookHeaders = [
        "seeds", "n", "reproduced: z (level)", "not reproduced: z (level)", "α spent (rep. / not)", "verdict",
    ]
}

extension AdaptiveLook {
    /// One row of the looks table: seeds, n, each test's z bound with its nominal one-sided level (— when the
    /// look spends no α), the α each test has spent so far, and the verdict.
    public var cells: [String] {
        func bound(_ z: Double?, _ level: Double) -> String {
            z.map { String(format: "%.3f (%.2g)", $0, level) } ?? "—"
        }
        return [
            "\(seeds)", "\(look.n)", bound(look.reproducedBound, look.reproducedNominalAlpha),
            bound(look.notReproducedBound, look.notReproducedNominalAlpha),
            String(format: "%.2g / %.2g", look.reproducedSpentAlpha, look.notReproducedSpentAlpha),
            look.verdict.rawValue,
        ]
    }
}
