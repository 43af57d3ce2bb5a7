/// Outcome of checking one claim (statistics.md §2), encoded in snake_case.
public enum Verdict: String, Codable, Sendable, Hashable, CaseIterable {
    /// The runs support the claim within its tolerance.
    case reproduced
    /// The runs are decisively outside the claim's tolerance.
    case notReproduced = "not_reproduced"
    /// Neither: more runs are needed (see `runs_needed`).
    case inconclusive
    /// Fewer than `n_min` runs: no verdict, not counted in the score.
    case insufficientRuns = "insufficient_runs"

    /// Whether the verdict counts towards K in the reproducibility score.
    public var isDecided: Bool {
        self == .reproduced || self == .notReproduced
    }
}
