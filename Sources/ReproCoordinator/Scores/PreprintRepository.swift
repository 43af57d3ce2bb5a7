import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Preprints as records of their own: metadata written through the API (study submission writes it
/// too), read together with the stored score and the feedback summary.
public struct PreprintRepository: Sendable {
    let client: DatabaseClient
    let feedback: FeedbackRepository
    let logger: Logger

    /// Creates the repository.
    public init(client: DatabaseClient, logger: Logger) {
        self.client = client
        self.feedback = FeedbackRepository(client: client, logger: logger)
        self.logger = logger
    }

    /// True when the preprint exists (and, for the anonymous reader, has a completed study).
    func exists(_ id: String, completedOnly: Bool = false) async throws -> Bool {
        let rows = try await client.query(
            """
            SELECT 1 FROM preprints p JOIN preprint_scores s ON s.preprint_id = p.id
            WHERE p.id = \(id) AND (NOT \(completedOnly) OR s.has_completed_study)
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The record, or nil.
    /// What the badge shows: the stored score of a preprint with a completed study, and its claim counts;
    /// nil when it has none. One primary-key lookup: the badge is fetched by every README that shows it, and
    /// ``record(_:completedOnly:)`` also summarises the feedback.
    func badgeScore(_ id: String) async throws -> (score: Double?, reproduced: Int, decided: Int)? {
        let rows = try await client.query(
            """
            SELECT score, reproduced, decided FROM preprint_scores
            WHERE preprint_id = \(id) AND has_completed_study AND computed_at IS NOT NULL
            """, logger: logger)
        var found: (score: Double?, reproduced: Int, decided: Int)?
        for try await row in rows.decode((Double?, Int, Int).self) { found = row }
        return found
    }

    func record(_ id: String, completedOnly: Bool) async throws -> PreprintRecord? {
        let rows = try await client.query(
            """
            SELECT p.title, p.authors, p.institutions, p.field, p.funding::text, p.published_on::text, p.score_dirty,
                   (SELECT count(*) FROM studies st WHERE st.preprint_id = p.id),
                   s.score, s.reproduced, s.decided, s.inconclusive, s.insufficient_runs, s.runs, s.badge, s.computed_at,
                   s.updated_at
            FROM preprints p JOIN preprint_scores s ON s.preprint_id = p.id
            WHERE p.id = \(id) AND (NOT \(completedOnly) OR s.has_completed_study)
            """, logger: logger)
        var found:
            (String, [String], [String], String?, String, String?, Bool, Int64, Double?, Int, Int, Int, Int, Int, String?,
                Date?, Date)?
        for try await row in rows.decode(
            (String, [String], [String], String?, String, String?, Bool, Int64, Double?, Int, Int, Int, Int, Int, String?,
                Date?, Date).self)
        {
            found = row
        }
        guard let row = found else { return nil }
        let score = row.15.map {
            ScoreHistoryEntry(
                score: row.8, reproduced: row.9, decided: row.10, inconclusive: row.11, insufficientRuns: row.12,
                runs: row.13, badge: row.14, computedAt: $0)
        }
        let summary = try await feedback.summary(preprint: id)
        return PreprintRecord(
            id: id, title: row.0, authors: row.1, institutions: row.2, field: row.3,
            funding: ScoreRepository.funding(row.4), date: row.5, studies: Int(row.7), score: score,
            scorePending: row.6, feedback: summary, updatedAt: row.16)
    }

    /// Creates or replaces a preprint's metadata as `PUT` does; true when it was created. Metadata owned by
    /// another account is refused (403) unless the caller is a moderator or admin.
    func upsert(_ id: String, _ update: PreprintUpdate, by identity: Identity) async throws -> Bool {
        let metadata = PreprintMetadataWriter.Metadata(
            title: update.title, authors: update.authors ?? [], institutions: update.institutions ?? [],
            field: update.field, funding: update.funding ?? [], date: update.date)
        let writer = PreprintMetadataWriter.Writer(
            account: identity.accountID, mayOverride: !identity.roles.isDisjoint(with: [.admin, .moderator]),
            source: .put)
        let outcome = try await client.withTransaction(logger: logger) { connection in
            try await PreprintMetadataWriter.write(id, metadata, by: writer, on: connection, logger: logger)
        }
        switch outcome {
        case .created: return true
        case .updated, .unchanged: return false
        case .refused(let fields):
            throw Problem.forbidden(
                "Preprint \(id)'s metadata belongs to the account that first described it; only that account, a "
                    + "moderator or an admin may change it (this request changes \(fields.joined(separator: ", "))).")
        }
    }
}
