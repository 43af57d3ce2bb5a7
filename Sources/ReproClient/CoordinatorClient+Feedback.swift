import Foundation
import ReproCore

/// Filters of the funders' table, as `repro scores` passes them.
public struct ScoreFilters: Sendable {
    public var funder: String?
    public var grant: String?
    public var institution: String?
    public var field: String?
    public var minScore: Double?
    public var maxScore: Double?
    public var scoredOnly = false
    /// `score`, `runs` or `date`.
    public var sort: String?
    /// `asc` or `desc`.
    public var order: String?
    public var limit: Int?
    public var cursor: String?

    /// Creates empty filters.
    public init() {}

    var queryItems: [URLQueryItem] {
        var items: [URLQueryItem] = []
        func add(_ name: String, _ value: String?) { if let value { items.append(URLQueryItem(name: name, value: value)) } }
        add("funder", funder)
        add("grant", grant)
        add("institution", institution)
        add("field", field)
        add("min_score", minScore.map { "\($0)" })
        add("max_score", maxScore.map { "\($0)" })
        if scoredOnly { add("scored_only", "true") }
        add("sort", sort)
        add("order", order)
        add("limit", limit.map { "\($0)" })
        add("cursor", cursor)
        return items
    }
}

extension CoordinatorClient {
    /// A path segment with everything but unreserved characters percent-encoded (a DOI's `/` too).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? text
    }

    static func query(_ items: [URLQueryItem]) -> String {
        var components = URLComponents()
        components.queryItems = items
        // URLComponents leaves `+` alone, which servers may read as a space.
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        return query.isEmpty ? "" : "?" + query
    }

    /// Posts (or replaces) the caller's feedback on a preprint.
    public func postFeedback(preprint: String, _ post: FeedbackPost) async throws -> FeedbackPosted {
        try await call(.POST, "/v1/preprints/\(Self.segment(preprint))/feedback", json: post)
    }

    /// The feedback summary of a preprint.
    public func feedbackSummary(preprint: String) async throws -> FeedbackSummary {
        try await call(.GET, "/v1/preprints/\(Self.segment(preprint))/feedback/summary")
    }

    /// One page of the funders' table.
    public func scores(_ filters: ScoreFilters) async throws -> ScorePage {
        try await call(.GET, "/v1/scores" + Self.query(filters.queryItems))
    }

    /// One page of the funders' table as CSV text.
    public func scoresCSV(_ filters: ScoreFilters) async throws -> String {
        var items = filters.queryItems
        items.append(URLQueryItem(name: "format", value: "csv"))
        let data = try await send(.GET, "/v1/scores" + Self.query(items), accept: "text/csv")
        return String(decoding: data, as: UTF8.self)
    }
}
