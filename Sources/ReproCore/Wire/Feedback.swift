import Foundation
import ReproStats

/// A post of community feedback (`POST /v1/preprints/{id}/feedback`). Posting again replaces the
/// account's previous feedback on that preprint; the old version is kept as history.
public struct FeedbackPost: Codable, Sendable {
    public var verdict: FeedbackItem.Verdict
    /// 1–5, optional.
    public var rating: Int?
    /// Vocabulary tags (``FeedbackPost/vocabulary``) or free tags; normalized by the coordinator.
    public var tags: [String]?
    /// At most 5 000 characters.
    public var text: String?
    /// One of the preprint's studies, when the feedback is about it.
    public var studyID: UUID?

    enum CodingKeys: String, CodingKey {
        case verdict, rating, tags, text
        case studyID = "study_id"
    }

    /// Creates a post.
    public init(
        verdict: FeedbackItem.Verdict, rating: Int? = nil, tags: [String]? = nil, text: String? = nil,
        studyID: UUID? = nil
    ) {
        self.verdict = verdict
        self.rating = rating
        self.tags = tags
        self.text = text
        self.studyID = studyID
    }

    /// The documented tags; any other tag that normalizes cleanly is accepted as a free tag.
    public static let vocabulary: [String] = [
        "code-available", "code-missing", "data-missing", "environment", "hardware-sensitive", "seed-sensitive",
        "hyperparameters", "compute-heavy", "well-documented", "poorly-documented", "numbers-match",
        "numbers-differ",
    ]
    /// Most tags on one item.
    public static let maxTags = 10
    /// Longest tag, after normalization.
    public static let maxTagLength = 32
    /// Longest text, in characters.
    public static let maxTextLength = 5_000
}

/// One feedback item as the API shows it.
public struct FeedbackView: Codable, Sendable, Equatable {
    public var id: UUID
    public var preprintID: String
    public var accountID: UUID
    public var studyID: UUID?
    public var verdict: FeedbackItem.Verdict
    public var rating: Int?
    public var tags: [String]
    public var text: String
    public var helpful: Int
    public var unhelpful: Int
    public var createdAt: Date
    /// Set on older versions of an account's feedback (history).
    public var replacedAt: Date?
    /// Set when a moderator hid the item.
    public var hiddenAt: Date?
    /// The moderator's reason; shown only to moderators and admins.
    public var hiddenReason: String?

    enum CodingKeys: String, CodingKey {
        case id
        case preprintID = "preprint_id"
        case accountID = "account_id"
        case studyID = "study_id"
        case verdict, rating, tags, text, helpful, unhelpful
        case createdAt = "created_at"
        case replacedAt = "replaced_at"
        case hiddenAt = "hidden_at"
        case hiddenReason = "hidden_reason"
    }

    /// Creates a view.
    public init(
        id: UUID, preprintID: String, accountID: UUID, studyID: UUID?, verdict: FeedbackItem.Verdict, rating: Int?,
        tags: [String], text: String, helpful: Int, unhelpful: Int, createdAt: Date, replacedAt: Date?,
        hiddenAt: Date?, hiddenReason: String?
    ) {
        self.id = id
        self.preprintID = preprintID
        self.accountID = accountID
        self.studyID = studyID
        self.verdict = verdict
        self.rating = rating
        self.tags = tags
        self.text = text
        self.helpful = helpful
        self.unhelpful = unhelpful
        self.createdAt = createdAt
        self.replacedAt = replacedAt
        self.hiddenAt = hiddenAt
        self.hiddenReason = hiddenReason
    }
}

/// The answer to a feedback post: the stored item and the versions it replaced, newest first.
public struct FeedbackPosted: Codable, Sendable {
    public var feedback: FeedbackView
    public var history: [FeedbackView]

    /// Creates the answer.
    public init(feedback: FeedbackView, history: [FeedbackView]) {
        self.feedback = feedback
        self.history = history
    }
}

/// One page of a preprint's feedback, newest first.
public struct FeedbackPage: Codable, Sendable {
    public var items: [FeedbackView]
    /// Pass as `?cursor=` for the next page; nil on the last page.
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    /// Creates a page.
    public init(items: [FeedbackView], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// A vote on a feedback item (`PUT /v1/feedback/{id}/vote`).
public struct FeedbackVote: Codable, Sendable {
    /// `helpful` or `unhelpful`.
    public var vote: Kind

    /// The two votes.
    public enum Kind: String, Codable, Sendable {
        case helpful, unhelpful
    }

    /// Creates a vote.
    public init(vote: Kind) { self.vote = vote }
}

/// The item's vote counts after a vote changed.
public struct FeedbackVotes: Codable, Sendable, Equatable {
    public var feedbackID: UUID
    public var helpful: Int
    public var unhelpful: Int
    /// The caller's vote now; nil after `DELETE`.
    public var yourVote: FeedbackVote.Kind?

    enum CodingKeys: String, CodingKey {
        case feedbackID = "feedback_id"
        case helpful, unhelpful
        case yourVote = "your_vote"
    }

    /// Creates the counts.
    public init(feedbackID: UUID, helpful: Int, unhelpful: Int, yourVote: FeedbackVote.Kind?) {
        self.feedbackID = feedbackID
        self.helpful = helpful
        self.unhelpful = unhelpful
        self.yourVote = yourVote
    }
}

/// A moderator hiding an item (`POST /v1/feedback/{id}/hide`).
public struct FeedbackHide: Codable, Sendable {
    /// Why; kept with the item (1–1 000 characters).
    public var reason: String

    /// Creates the request.
    public init(reason: String) { self.reason = reason }
}

/// A preprint's feedback summary (statistics.md §5), beside — never inside — its measured score. Its
/// fields and JSON are those of ReproStats' `FeedbackStatistics`, plus the item count, C and m.
public struct FeedbackSummary: Codable, Sendable {
    /// Items per verdict.
    public struct VerdictCounts: Codable, Sendable, Equatable {
        public var reproduced: Int
        public var partially: Int
        public var notReproduced: Int
        public var comment: Int

        enum CodingKeys: String, CodingKey {
            case reproduced, partially
            case notReproduced = "not_reproduced"
            case comment
        }

        /// Creates counts.
        public init(reproduced: Int, partially: Int, notReproduced: Int, comment: Int) {
            self.reproduced = reproduced
            self.partially = partially
            self.notReproduced = notReproduced
            self.comment = comment
        }
    }

    /// A tag and how many items carry it.
    public struct TagCount: Codable, Sendable, Equatable {
        public var tag: String
        public var count: Int

        /// Creates a count.
        public init(tag: String, count: Int) {
            self.tag = tag
            self.count = count
        }
    }

    /// An item ranked by its helpful votes.
    public struct Highlight: Codable, Sendable, Equatable {
        public var id: String
        public var helpful: Int
        public var unhelpful: Int
        /// Wilson 95 % lower bound of helpful / (helpful + unhelpful).
        public var helpfulLowerBound: Double

        enum CodingKeys: String, CodingKey {
            case id, helpful, unhelpful
            case helpfulLowerBound = "helpful_lower_bound"
        }

        /// Creates a highlight.
        public init(id: String, helpful: Int, unhelpful: Int, helpfulLowerBound: Double) {
            self.id = id
            self.helpful = helpful
            self.unhelpful = unhelpful
            self.helpfulLowerBound = helpfulLowerBound
        }
    }

    public var preprintID: String
    /// Visible current items.
    public var items: Int
    public var verdictCounts: VerdictCounts
    /// Wilson 95 % lower bound of reproduced / (reproduced + not_reproduced); nil when both are 0.
    public var reproducedShareLowerBound: Double?
    public var ratingMean: Double?
    public var ratingCount: Int
    /// v/(v+m)·R + m/(v+m)·C; nil when no rating exists anywhere.
    public var ratingBayesian: Double?
    /// C of the Bayesian average: mean of every visible rating on every preprint.
    public var globalMeanRating: Double?
    /// m of the Bayesian average.
    public var priorWeight: Double
    public var topTags: [TagCount]
    public var highlights: [Highlight]
    public var keyPhrases: [FeedbackKeyPhrase]

    enum CodingKeys: String, CodingKey {
        case preprintID = "preprint_id"
        case items
        case verdictCounts = "verdict_counts"
        case reproducedShareLowerBound = "reproduced_share_lb"
        case ratingMean = "rating_mean"
        case ratingCount = "rating_count"
        case ratingBayesian = "rating_bayesian"
        case globalMeanRating = "global_mean_rating"
        case priorWeight = "prior_weight"
        case topTags = "top_tags"
        case highlights
        case keyPhrases = "key_phrases"
    }

    /// Creates a summary.
    public init(
        preprintID: String, items: Int, verdictCounts: VerdictCounts, reproducedShareLowerBound: Double?,
        ratingMean: Double?, ratingCount: Int, ratingBayesian: Double?, globalMeanRating: Double?, priorWeight: Double,
        topTags: [TagCount], highlights: [Highlight], keyPhrases: [FeedbackKeyPhrase]
    ) {
        self.preprintID = preprintID
        self.items = items
        self.verdictCounts = verdictCounts
        self.reproducedShareLowerBound = reproducedShareLowerBound
        self.ratingMean = ratingMean
        self.ratingCount = ratingCount
        self.ratingBayesian = ratingBayesian
        self.globalMeanRating = globalMeanRating
        self.priorWeight = priorWeight
        self.topTags = topTags
        self.highlights = highlights
        self.keyPhrases = keyPhrases
    }
}

/// A key phrase of a preprint's feedback: the fields of ReproStats' `KeyPhrase`, which the coordinator
/// ranks from term counts it maintains on write instead of re-tokenizing every text per request.
public struct FeedbackKeyPhrase: Codable, Sendable, Hashable {
    /// The term, or two terms separated by a space.
    public var phrase: String
    /// Occurrences in the preprint's visible feedback.
    public var count: Int
    /// TF-IDF weight, as `KeyPhrases.top` defines it.
    public var weight: Double

    /// Creates a phrase.
    public init(phrase: String, count: Int, weight: Double) {
        self.phrase = phrase
        self.count = count
        self.weight = weight
    }
}
