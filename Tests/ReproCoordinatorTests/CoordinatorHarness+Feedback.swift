import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Helpers of the feedback and scores suites.
extension CoordinatorHarness {
    /// Creates or updates a preprint through the API.
    @discardableResult
    func putPreprint(
        _ id: String, title: String = "A preprint", institutions: [String] = ["Example University"],
        field: String? = "cs.LG", funding: [FundingEntry] = [], key: String
    ) async throws -> PreprintRecord {
        try await call(
            .put, "/v1/preprints/\(id)", key: key,
            json: PreprintUpdate(title: title, authors: ["A. Author"], institutions: institutions, field: field, funding: funding))
    }

    /// Posts feedback and returns the stored item.
    func postFeedback(_ preprint: String, _ post: FeedbackPost, key: String) async throws -> FeedbackPosted {
        try await call(.post, "/v1/preprints/\(preprint)/feedback", key: key, json: post)
    }

    /// Sets a stored score directly, as the maintainer would, with a chosen update time.
    func setScore(
        _ preprint: String, score: Double?, k: Int = 0, K: Int = 0, runs: Int = 0, badge: String? = nil,
        completed: Bool = true, updatedAt: Date = Date()
    ) async throws {
        try await database.client.query(
            """
            UPDATE preprint_scores SET score = \(score), reproduced = \(k), decided = \(K), runs = \(runs),
                badge = \(badge), has_completed_study = \(completed), computed_at = now(), updated_at = \(updatedAt)
            WHERE preprint_id = \(preprint)
            """)
    }
}
