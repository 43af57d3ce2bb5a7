/// The reproducibility score of one preprint over all its claims with a verdict (statistics.md §4).
///
/// score = 100 × Wilson 95 % lower bound of k/K (z = Φ⁻¹(0.975)), with K the claims decided (`reproduced` or
/// `not_reproduced`) and k those reproduced; inconclusive and insufficient_runs claims are listed, not counted.
/// With no decided claim the score is null ("not yet scored"), never 0. Examples: 3/3 → 43.85, 7/9 → 45.26,
/// 9/9 → 70.09, 27/30 → 74.38. `score` and `badge` are encoded as explicit JSON nulls when absent.
public struct ReproducibilityScore: Codable, Sendable, Hashable {
    /// Badge in the ACM vocabulary.
    public enum Badge: String, Codable, Sendable, Hashable {
        /// Every decided claim was reproduced (K ≥ 1 and k = K).
        case reproduced
    }

    /// 100 × Wilson lower bound of k/K, in [0, 100]; nil when K = 0.
    public let score: Double?
    /// k, claims reproduced.
    public let reproduced: Int
    /// K − k, claims not reproduced.
    public let notReproduced: Int
    /// K, claims decided.
    public let decided: Int
    /// Claims with an inconclusive verdict (not counted).
    public let inconclusive: Int
    /// Claims with too few runs (not counted).
    public let insufficientRuns: Int
    /// Total runs behind the claims.
    public let runs: Int
    /// `reproduced` when K ≥ 1 and k = K, otherwise nil.
    public let badge: Badge?

    enum CodingKeys: String, CodingKey {
        case score, reproduced
        case notReproduced = "not_reproduced"
        case decided, inconclusive
        case insufficientRuns = "insufficient_runs"
        case runs, badge
    }

    /// The score from counts. Negative counts are treated as 0 and k is capped at K.
    public init(reproduced: Int, decided: Int, inconclusive: Int = 0, insufficientRuns: Int = 0, runs: Int = 0) {
        let total = Swift.max(decided, 0)
        let successes = Swift.min(Swift.max(reproduced, 0), total)
        self.reproduced = successes
        self.decided = total
        notReproduced = total - successes
        self.inconclusive = Swift.max(inconclusive, 0)
        self.insufficientRuns = Swift.max(insufficientRuns, 0)
        self.runs = Swift.max(runs, 0)
        score = Wilson.lowerBound(successes: successes, trials: total).map { 100 * $0 }
        badge = total >= 1 && successes == total ? .reproduced : nil
    }

    /// The score from the verdicts of a preprint's claims.
    public init(verdicts: [Verdict], runs: Int = 0) {
        self.init(
            reproduced: verdicts.count { $0 == .reproduced },
            decided: verdicts.count(where: \.isDecided),
            inconclusive: verdicts.count { $0 == .inconclusive },
            insufficientRuns: verdicts.count { $0 == .insufficientRuns },
            runs: runs
        )
    }

    /// Encodes every key, with explicit nulls for a missing score or badge ("not yet scored").
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(score, forKey: .score)
        try container.encode(reproduced, forKey: .reproduced)
        try container.encode(notReproduced, forKey: .notReproduced)
        try container.encode(decided, forKey: .decided)
        try container.encode(inconclusive, forKey: .inconclusive)
        try container.encode(insufficientRuns, forKey: .insufficientRuns)
        try container.encode(runs, forKey: .runs)
        try container.encode(badge, forKey: .badge)
    }
}
