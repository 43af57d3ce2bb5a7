import Foundation
import ReproStats

/// A grant that funded a preprint, as stored and answered.
public struct FundingEntry: Codable, Sendable, Hashable {
    public var funder: String
    public var grant: String?

    /// Creates an entry.
    public init(funder: String, grant: String? = nil) {
        self.funder = funder
        self.grant = grant
    }
}

/// The feedback figures shown beside a score in the funders' table.
public struct FeedbackHeadline: Codable, Sendable, Equatable {
    public var reproduced: Int
    public var partially: Int
    public var notReproduced: Int
    public var comment: Int
    /// Bayesian average rating (statistics.md §5); nil when no rating exists anywhere.
    public var ratingBayesian: Double?
    public var ratingCount: Int

    enum CodingKeys: String, CodingKey {
        case reproduced, partially
        case notReproduced = "not_reproduced"
        case comment
        case ratingBayesian = "rating_bayesian"
        case ratingCount = "rating_count"
    }

    /// Creates a headline.
    public init(reproduced: Int, partially: Int, notReproduced: Int, comment: Int, ratingBayesian: Double?, ratingCount: Int) {
        self.reproduced = reproduced
        self.partially = partially
        self.notReproduced = notReproduced
        self.comment = comment
        self.ratingBayesian = ratingBayesian
        self.ratingCount = ratingCount
    }
}

/// One row of `GET /v1/scores`: a preprint with its stored score and feedback headline.
public struct ScoreRow: Codable, Sendable, Equatable {
    public var preprintID: String
    public var title: String
    public var institutions: [String]
    public var field: String?
    public var funding: [FundingEntry]
    /// 100 × Wilson lower bound of k/K; nil when not yet scored.
    public var score: Double?
    /// k.
    public var reproduced: Int
    /// K.
    public var decided: Int
    public var inconclusive: Int
    public var runs: Int
    public var badge: String?
    public var feedback: FeedbackHeadline
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case preprintID = "preprint_id"
        case title, institutions, field, funding, score, reproduced, decided, inconclusive, runs, badge, feedback
        case updatedAt = "updated_at"
    }

    /// Creates a row.
    public init(
        preprintID: String, title: String, institutions: [String], field: String?, funding: [FundingEntry],
        score: Double?, reproduced: Int, decided: Int, inconclusive: Int, runs: Int, badge: String?,
        feedback: FeedbackHeadline, updatedAt: Date
    ) {
        self.preprintID = preprintID
        self.title = title
        self.institutions = institutions
        self.field = field
        self.funding = funding
        self.score = score
        self.reproduced = reproduced
        self.decided = decided
        self.inconclusive = inconclusive
        self.runs = runs
        self.badge = badge
        self.feedback = feedback
        self.updatedAt = updatedAt
    }

    /// Encodes nulls explicitly, so a missing score reads "not yet scored" rather than an absent key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(preprintID, forKey: .preprintID)
        try container.encode(title, forKey: .title)
        try container.encode(institutions, forKey: .institutions)
        try container.encode(field, forKey: .field)
        try container.encode(funding, forKey: .funding)
        try container.encode(score, forKey: .score)
        try container.encode(reproduced, forKey: .reproduced)
        try container.encode(decided, forKey: .decided)
        try container.encode(inconclusive, forKey: .inconclusive)
        try container.encode(runs, forKey: .runs)
        try container.encode(badge, forKey: .badge)
        try container.encode(feedback, forKey: .feedback)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// One page of `GET /v1/scores`.
public struct ScorePage: Codable, Sendable {
    public var rows: [ScoreRow]
    /// Pass as `?cursor=` (with the same filters and sort) for the next page; nil on the last page.
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case rows
        case nextCursor = "next_cursor"
    }

    /// Creates a page.
    public init(rows: [ScoreRow], nextCursor: String?) {
        self.rows = rows
        self.nextCursor = nextCursor
    }
}

/// One recorded value of a preprint's score.
public struct ScoreHistoryEntry: Codable, Sendable, Equatable {
    public var score: Double?
    public var reproduced: Int
    public var decided: Int
    public var inconclusive: Int
    public var insufficientRuns: Int
    public var runs: Int
    public var badge: String?
    public var computedAt: Date

    enum CodingKeys: String, CodingKey {
        case score, reproduced, decided, inconclusive
        case insufficientRuns = "insufficient_runs"
        case runs, badge
        case computedAt = "computed_at"
    }

    /// Creates an entry.
    public init(
        score: Double?, reproduced: Int, decided: Int, inconclusive: Int, insufficientRuns: Int, runs: Int,
        badge: String?, computedAt: Date
    ) {
        self.score = score
        self.reproduced = reproduced
        self.decided = decided
        self.inconclusive = inconclusive
        self.insufficientRuns = insufficientRuns
        self.runs = runs
        self.badge = badge
        self.computedAt = computedAt
    }

    /// Encodes nulls explicitly.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(score, forKey: .score)
        try container.encode(reproduced, forKey: .reproduced)
        try container.encode(decided, forKey: .decided)
        try container.encode(inconclusive, forKey: .inconclusive)
        try container.encode(insufficientRuns, forKey: .insufficientRuns)
        try container.encode(runs, forKey: .runs)
        try container.encode(badge, forKey: .badge)
        try container.encode(computedAt, forKey: .computedAt)
    }
}

/// `GET /v1/preprints/{id}/score/history`: oldest first.
public struct ScoreHistory: Codable, Sendable {
    public var preprintID: String
    public var entries: [ScoreHistoryEntry]

    enum CodingKeys: String, CodingKey {
        case preprintID = "preprint_id"
        case entries
    }

    /// Creates the history.
    public init(preprintID: String, entries: [ScoreHistoryEntry]) {
        self.preprintID = preprintID
        self.entries = entries
    }
}

/// Score quantiles of a group of preprints (scored ones only), linear interpolation (numpy's default).
public struct ScoreQuantiles: Codable, Sendable, Equatable {
    public var min: Double
    public var p25: Double
    public var median: Double
    public var p75: Double
    public var max: Double

    /// Creates the quantiles.
    public init(min: Double, p25: Double, median: Double, p75: Double, max: Double) {
        self.min = min
        self.p25 = p25
        self.median = median
        self.p75 = p75
        self.max = max
    }
}

/// The preprints of one grant and their scores.
public struct GrantScores: Codable, Sendable, Equatable {
    public struct Preprint: Codable, Sendable, Equatable {
        public var preprintID: String
        public var title: String
        public var score: Double?
        public var badge: String?

        enum CodingKeys: String, CodingKey {
            case preprintID = "preprint_id"
            case title, score, badge
        }

        /// Creates an entry.
        public init(preprintID: String, title: String, score: Double?, badge: String?) {
            self.preprintID = preprintID
            self.title = title
            self.score = score
            self.badge = badge
        }
    }

    /// The grant id; nil for funding without a grant id.
    public var grant: String?
    public var funder: String
    public var preprints: [Preprint]

    /// Creates an entry.
    public init(grant: String?, funder: String, preprints: [Preprint]) {
        self.grant = grant
        self.funder = funder
        self.preprints = preprints
    }
}

/// `GET /v1/funders/{funder}/summary` and `GET /v1/institutions/{institution}/summary`.
public struct ScoreGroupSummary: Codable, Sendable {
    /// `funder` or `institution`.
    public var kind: String
    public var name: String
    public var preprints: Int
    public var scored: Int
    /// Over scored preprints; nil when none is scored.
    public var quantiles: ScoreQuantiles?
    /// Preprints with badge `reproduced` / all preprints of the group; nil when the group is empty.
    public var reproducedBadgeShare: Double?
    /// Total runs / preprints; nil when the group is empty.
    public var meanRunsPerPreprint: Double?
    public var grants: [GrantScores]

    enum CodingKeys: String, CodingKey {
        case kind, name, preprints, scored, quantiles
        case reproducedBadgeShare = "reproduced_badge_share"
        case meanRunsPerPreprint = "mean_runs_per_preprint"
        case grants
    }

    /// Creates a summary.
    public init(
        kind: String, name: String, preprints: Int, scored: Int, quantiles: ScoreQuantiles?,
        reproducedBadgeShare: Double?, meanRunsPerPreprint: Double?, grants: [GrantScores]
    ) {
        self.kind = kind
        self.name = name
        self.preprints = preprints
        self.scored = scored
        self.quantiles = quantiles
        self.reproducedBadgeShare = reproducedBadgeShare
        self.meanRunsPerPreprint = meanRunsPerPreprint
        self.grants = grants
    }
}
