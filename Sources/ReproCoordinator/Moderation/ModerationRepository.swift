import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Moderation in PostgreSQL: trust, approval, rejection and the audit log. Each action is one
/// transaction that reads the rows, asks ``ModerationDecision``, and writes the study, its tasks and
/// one audit line together.
public struct ModerationRepository: Sendable {
    let client: DatabaseClient
    let signer: SigningKeyStore
    let logger: Logger

    /// Creates the repository.
    public init(client: DatabaseClient, signer: SigningKeyStore, logger: Logger) {
        self.client = client
        self.signer = signer
        self.logger = logger
    }

    /// Marks an account trusted (or not); nil when there is no such account.
    public func setTrusted(_ account: UUID, trusted: Bool, actor: UUID, reason: String?) async throws -> AccountTrust? {
        let action = trusted ? "trust" : "untrust"
        return try await client.withTransaction(logger: logger) { connection -> AccountTrust? in
            let rows = try await connection.query(
                "UPDATE accounts SET trusted = \(trusted) WHERE id = \(account) RETURNING id", logger: logger)
            var found = false
            for try await _ in rows.decode(UUID.self) { found = true }
            guard found else { return nil }
            try await connection.query(
                """
                INSERT INTO moderation_log (actor, action, account_id, reason)
                VALUES (\(actor), \(action), \(account), \(reason))
                """, logger: logger)
            return AccountTrust(accountID: account, trusted: trusted)
        }
    }

    /// Applies a moderator's approval or rejection. Locks the study's held tasks in id order, then the
    /// study (decision 0002's order), so it cannot deadlock with a cancellation of the same study.
    /// Throws 404 for an unknown study and 409 for one that is not pending.
    func decide(_ action: ModerationDecision.Action, study: UUID, actor: UUID) async throws
        -> ModerationDecision.Plan
    {
        let signer = self.signer
        let plan = try await client.withTransaction(logger: logger) { connection -> ModerationDecision.Plan in
            try await connection.query(
                "SELECT id FROM tasks WHERE study_id = \(study) AND state = 'held' ORDER BY id FOR UPDATE",
                logger: logger)
            let rows = try await connection.query(
                "SELECT state, manifest::text, owner_account_id FROM studies WHERE id = \(study) FOR UPDATE",
                logger: logger)
            var found: (state: String, manifest: String?, owner: UUID)?
            for try await row in rows.decode((String, String?, UUID).self) { found = row }
            guard let found else { throw Problem.notFound("No study \(study).", field: "id") }
            let plan = try ModerationDecision.plan(action, studyState: StudyState(rawValue: found.state) ?? .running)
            if plan.signs {
                guard let text = found.manifest,
                    let manifest = try? WireCoding.decoder().decode(JobManifest.self, from: Data(text.utf8))
                else {
                    throw Problem.conflict("The study has no readable job manifest; it cannot be signed.", field: "id")
                }
                let signature = try signer.sign(manifest)
                try await connection.query(
                    """
                    UPDATE studies SET state = 'running', approval = 'moderator', approved_by = \(actor), approved_at = now(),
                                       manifest_signature = \(signature.signature), signing_key_id = \(signature.keyID)
                    WHERE id = \(study)
                    """, logger: logger)
                try await connection.query(
                    "UPDATE tasks SET state = 'queued', not_before = now(), updated_at = now() WHERE study_id = \(study) AND state = 'held'",
                    logger: logger)
                try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'study')", logger: logger)
            } else {
                let error = "study rejected: \(plan.reason ?? "")"
                try await connection.query(
                    """
                    UPDATE tasks SET state = 'cancelled', last_error = \(error), updated_at = now()
                    WHERE study_id = \(study) AND state = 'held'
                    """, logger: logger)
                try await connection.query(
                    """
                    UPDATE studies SET state = 'rejected', rejection_reason = \(plan.reason), rejected_at = now(), open_tasks = 0
                    WHERE id = \(study)
                    """, logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO moderation_log (actor, action, study_id, account_id, reason)
                VALUES (\(actor), \(plan.auditAction), \(study), \(found.owner), \(plan.reason))
                """, logger: logger)
            return plan
        }
        logger.notice(
            "moderation decision",
            metadata: [
                "repro.study.id": "\(study)", "repro.moderation.action": "\(plan.auditAction)",
                "repro.account.id": "\(actor)",
            ])
        return plan
    }

    /// Studies waiting for review, oldest first.
    public func pending() async throws -> [ReviewListItem] {
        let rows = try await client.query(
            """
            SELECT s.id, s.preprint_id, p.title, s.owner_account_id, a.name, s.created_at, s.task_count,
                   ap.max_task_count
            FROM studies s JOIN preprints p ON p.id = s.preprint_id JOIN accounts a ON a.id = s.owner_account_id
            LEFT JOIN adaptive_plans ap ON ap.study_id = s.id
            WHERE s.state = 'pending_review'
            ORDER BY s.created_at
            """, logger: logger)
        var items: [ReviewListItem] = []
        for try await row in rows.decode((UUID, String, String, UUID, String, Date, Int, Int?).self) {
            items.append(
                ReviewListItem(
                    studyID: row.0, preprintID: row.1, title: row.2, submitter: row.3, submitterName: row.4,
                    submittedAt: row.5, taskCount: row.6, maxTaskCount: row.7))
        }
        return items
    }

    /// The audit log, newest first; only one study's lines when `study` is given.
    public func log(study: UUID?, limit: Int) async throws -> [AuditEntry] {
        let rows = try await client.query(
            """
            SELECT id, at, actor, action, study_id, account_id, reason FROM moderation_log
            WHERE \(study)::uuid IS NULL OR study_id = \(study)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var entries: [AuditEntry] = []
        for try await row in rows.decode((Int64, Date, UUID?, String, UUID?, UUID?, String?).self) {
            entries.append(
                AuditEntry(
                    id: row.0, at: row.1, actor: row.2, action: row.3, studyID: row.4, accountID: row.5, reason: row.6))
        }
        return entries
    }

    /// What the review document needs from the database.
    struct ReviewFacts {
        var state: StudyState
        var preprintID: String
        var title: String
        var manifest: JobManifest
        var binding: String
        var taskCount: Int
        var maxTaskCount: Int?
        var firstTask: (seed: Int64, dataset: String, configuration: String?)?
        var submitter: ReviewDocument.Submitter
        var bundle: Data?
    }

    /// The facts of one study's review; nil when there is no such study or it predates moderation.
    func reviewFacts(_ study: UUID) async throws -> ReviewFacts? {
        let rows = try await client.query(
            """
            SELECT s.state, s.preprint_id, p.title, s.manifest::text, s.binding_sha256, s.task_count,
                   a.id, a.name, a.trusted, a.created_at, ap.max_task_count
            FROM studies s JOIN preprints p ON p.id = s.preprint_id JOIN accounts a ON a.id = s.owner_account_id
            LEFT JOIN adaptive_plans ap ON ap.study_id = s.id
            WHERE s.id = \(study) AND s.manifest IS NOT NULL
            """, logger: logger)
        var facts: ReviewFacts?
        for try await row in rows.decode((String, String, String, String, String, Int, UUID, String, Bool, Date, Int?).self) {
            let manifest = try WireCoding.decoder().decode(JobManifest.self, from: Data(row.3.utf8))
            facts = ReviewFacts(
                state: StudyState(rawValue: row.0) ?? .running, preprintID: row.1, title: row.2, manifest: manifest,
                binding: row.4, taskCount: row.5, maxTaskCount: row.10, firstTask: nil,
                submitter: .init(accountID: row.6, name: row.7, trusted: row.8, createdAt: row.9, studies: [:]),
                bundle: nil)
        }
        guard var facts else { return nil }
        let tasks = try await client.query(
            "SELECT seed, dataset, configuration FROM tasks WHERE study_id = \(study) ORDER BY id LIMIT 1",
            logger: logger)
        for try await row in tasks.decode((Int64, String, String?).self) { facts.firstTask = row }
        let history = try await client.query(
            "SELECT state, count(*) FROM studies WHERE owner_account_id = \(facts.submitter.accountID) GROUP BY state",
            logger: logger)
        for try await (state, count) in history.decode((String, Int64).self) {
            facts.submitter.studies[state] = Int(count)
        }
        if let sha = facts.manifest.code.bundleSHA256 {
            let bundle = try await client.query("SELECT content FROM bundles WHERE sha256 = \(sha)", logger: logger)
            for try await content in bundle.decode(ByteBuffer.self) { facts.bundle = Data(content.readableBytesView) }
        }
        return facts
    }
}
