import Foundation
import Logging
import PostgresNIO
import ReproCore

/// The few reads of the dashboard that the JSON API has no route for: the overview counts, a
/// volunteer's workers with their task counts, and a study's failures with their log tails.
struct DashboardRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger

    struct Overview: Sendable {
        var studiesRunning = 0
        var tasksQueued = 0
        var tasksLeased = 0
        var workersOnline = 0
        var finishedLastHour = 0
        var preprintsScored = 0
    }

    struct StudyLine: Sendable {
        var id: UUID
        var preprintID: String
        var title: String
        var state: String
        var completedAt: Date?
    }

    struct WorkerLine: Sendable {
        var name: String
        var slots: Int
        var hardwareClass: String?
        var lastSeenAt: Date
        var online: Bool
        var succeeded: Int
        var failed: Int
    }

    struct Failure: Sendable {
        var runID: Int64
        var dataset: String
        var seed: Int64
        var replica: Int
        var outcome: String
        var error: String?
        var logTail: String?
    }

    /// A worker counts as online when it was seen within this many seconds (a long-poll renews it).
    static let onlineSeconds = 120.0

    func overview() async throws -> Overview {
        let rows = try await client.query(
            """
            SELECT (SELECT count(*) FROM studies WHERE state = 'running'),
                   (SELECT count(*) FROM tasks WHERE state = 'queued'),
                   (SELECT count(*) FROM tasks WHERE state = 'leased'),
                   (SELECT count(*) FROM workers WHERE last_seen_at > now() - make_interval(secs => \(Self.onlineSeconds))),
                   (SELECT count(*) FROM runs WHERE created_at > now() - interval '1 hour'),
                   (SELECT count(*) FROM preprint_scores WHERE score IS NOT NULL)
            """, logger: logger)
        var overview = Overview()
        for try await row in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64).self) {
            overview = Overview(
                studiesRunning: Int(row.0), tasksQueued: Int(row.1), tasksLeased: Int(row.2), workersOnline: Int(row.3),
                finishedLastHour: Int(row.4), preprintsScored: Int(row.5))
        }
        return overview
    }

    /// The latest completed studies; only `owner`'s when it is given.
    func latestCompleted(owner: UUID?, limit: Int = 10) async throws -> [StudyLine] {
        let rows = try await client.query(
            """
            SELECT s.id, s.preprint_id, p.title, s.state, s.completed_at
            FROM studies s JOIN preprints p ON p.id = s.preprint_id
            WHERE s.state = 'completed' AND (\(owner)::uuid IS NULL OR s.owner_account_id = \(owner))
            ORDER BY s.completed_at DESC NULLS LAST, s.id LIMIT \(limit)
            """, logger: logger)
        var lines: [StudyLine] = []
        for try await row in rows.decode((UUID, String, String, String, Date?).self) {
            lines.append(StudyLine(id: row.0, preprintID: row.1, title: row.2, state: row.3, completedAt: row.4))
        }
        return lines
    }

    /// Studies still running; only `owner`'s when it is given.
    func running(owner: UUID?, limit: Int = 20) async throws -> [StudyLine] {
        let rows = try await client.query(
            """
            SELECT s.id, s.preprint_id, p.title, s.state, s.completed_at
            FROM studies s JOIN preprints p ON p.id = s.preprint_id
            WHERE s.state IN ('running', 'pending_review') AND (\(owner)::uuid IS NULL OR s.owner_account_id = \(owner))
            ORDER BY s.created_at DESC, s.id LIMIT \(limit)
            """, logger: logger)
        var lines: [StudyLine] = []
        for try await row in rows.decode((UUID, String, String, String, Date?).self) {
            lines.append(StudyLine(id: row.0, preprintID: row.1, title: row.2, state: row.3, completedAt: row.4))
        }
        return lines
    }

    /// Workers of one volunteer (or all, `owner` nil) with their runs by outcome.
    func workers(owner: UUID?) async throws -> [WorkerLine] {
        let rows = try await client.query(
            """
            SELECT w.name, w.slots, w.hardware_class, w.last_seen_at,
                   w.last_seen_at > now() - make_interval(secs => \(Self.onlineSeconds)),
                   coalesce(r.ok, 0), coalesce(r.bad, 0)
            FROM workers w
            LEFT JOIN (SELECT worker_id, count(*) FILTER (WHERE outcome = 'succeeded') AS ok,
                              count(*) FILTER (WHERE outcome <> 'succeeded') AS bad
                       FROM runs GROUP BY worker_id) r ON r.worker_id = w.id
            WHERE \(owner)::uuid IS NULL OR w.owner_account_id = \(owner)
            ORDER BY w.registered_at, w.id
            """, logger: logger)
        var lines: [WorkerLine] = []
        for try await row in rows.decode((String, Int, String?, Date, Bool, Int64, Int64).self) {
            lines.append(
                WorkerLine(
                    name: row.0, slots: row.1, hardwareClass: row.2, lastSeenAt: row.3, online: row.4,
                    succeeded: Int(row.5), failed: Int(row.6)))
        }
        return lines
    }

    /// The latest failed attempts of a study with their error and log tail (for its owner only).
    func failures(study: UUID, limit: Int = 50) async throws -> [Failure] {
        let rows = try await client.query(
            """
            SELECT r.id, t.dataset, t.seed, t.replica, r.outcome, r.error, r.log_tail
            FROM runs r JOIN tasks t ON t.id = r.task_id
            WHERE r.study_id = \(study) AND r.outcome <> 'succeeded'
            ORDER BY r.id DESC LIMIT \(limit)
            """, logger: logger)
        var failures: [Failure] = []
        for try await row in rows.decode((Int64, String, Int64, Int, String, String?, String?).self) {
            failures.append(
                Failure(runID: row.0, dataset: row.1, seed: row.2, replica: row.3, outcome: row.4, error: row.5, logTail: row.6))
        }
        return failures
    }
}

extension DashboardRepository {
    struct PreprintStudy: Sendable {
        var id: UUID
        var owner: UUID
        var state: String
    }

    /// The studies of a preprint, oldest first.
    func studies(preprint: String) async throws -> [PreprintStudy] {
        let rows = try await client.query(
            "SELECT id, owner_account_id, state FROM studies WHERE preprint_id = \(preprint) ORDER BY created_at, id",
            logger: logger)
        var studies: [PreprintStudy] = []
        for try await (id, owner, state) in rows.decode((UUID, UUID, String).self) {
            studies.append(PreprintStudy(id: id, owner: owner, state: state))
        }
        return studies
    }
}
