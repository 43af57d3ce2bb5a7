/// One piece of community feedback on a preprint (statistics.md §5).
public struct FeedbackItem: Codable, Sendable, Hashable {
    /// What the volunteer reports.
    public enum Verdict: String, Codable, Sendable, Hashable, CaseIterable {
        /// They reproduced the results.
        case reproduced
        /// Some results reproduced, some did not.
        case partially
        /// They could not reproduce the results.
        case notReproduced = "not_reproduced"
        /// A remark without a verdict.
        case comment
    }

    /// Identifier of the item (echoed in highlights).
    public var id: String
    /// The reported verdict.
    public var verdict: Verdict
    /// Rating 1–5, if given (other values are ignored).
    public var rating: Int?
    /// Free-form tags.
    public var tags: [String]
    /// Free text.
    public var text: String
    /// "Helpful" votes from other users.
    public var helpful: Int
    /// "Not helpful" votes.
    public var unhelpful: Int

    /// A feedback item.
    public init(
        id: String,
        verdict: Verdict,
        rating: Int? = nil,
        tags: [String] = [],
        text: String = "",
        helpful: Int = 0,
        unhelpful: Int = 0
    ) {
        self.id = id
        self.verdict = verdict
        self.rating = rating
        self.tags = tags
        self.text = text
        self.helpful = helpful
        self.unhelpful = unhelpful
    }
}
