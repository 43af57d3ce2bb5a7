import Foundation

/// Metadata of a preprint (`PUT /v1/preprints/{id}`); every field replaces the stored one.
public struct PreprintUpdate: Codable, Sendable {
    public var title: String
    public var authors: [String]?
    public var institutions: [String]?
    public var field: String?
    public var funding: [FundingEntry]?
    /// Publication date, `YYYY-MM-DD`.
    public var date: String?

    /// Creates an update.
    public init(
        title: String, authors: [String]? = nil, institutions: [String]? = nil, field: String? = nil,
        funding: [FundingEntry]? = nil, date: String? = nil
    ) {
        self.title = title
        self.authors = authors
        self.institutions = institutions
        self.field = field
        self.funding = funding
        self.date = date
    }
}

/// A preprint as `GET /v1/preprints/{id}` answers: metadata, the stored measured score and, beside it,
/// the community feedback summary (which never changes the score).
public struct PreprintRecord: Codable, Sendable {
    public var id: String
    public var title: String
    public var authors: [String]
    public var institutions: [String]
    public var field: String?
    public var funding: [FundingEntry]
    public var date: String?
    public var studies: Int
    /// The measured score as last stored by the score maintainer.
    public var score: ScoreHistoryEntry?
    /// True while a recomputation is pending (a study completed or runs changed since `score`).
    public var scorePending: Bool
    public var feedback: FeedbackSummary
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, title, authors, institutions, field, funding, date, studies, score
        case scorePending = "score_pending"
        case feedback
        case updatedAt = "updated_at"
    }

    /// Creates a record.
    public init(
        id: String, title: String, authors: [String], institutions: [String], field: String?, funding: [FundingEntry],
        date: String?, studies: Int, score: ScoreHistoryEntry?, scorePending: Bool, feedback: FeedbackSummary,
        updatedAt: Date
    ) {
        self.id = id
        self.title = title
        self.authors = authors
        self.institutions = institutions
        self.field = field
        self.funding = funding
        self.date = date
        self.studies = studies
        self.score = score
        self.scorePending = scorePending
        self.feedback = feedback
        self.updatedAt = updatedAt
    }
}
