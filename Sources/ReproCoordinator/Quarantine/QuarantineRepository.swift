import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Quarantines and releases workers and volunteer accounts: one transaction each, decided by ``QuarantinePlan``.
///
/// Lock order (decision 0008): a transaction-level advisory lock that serializes quarantine actions, then
/// tasks in id order, then studies in id order, then preprints in id order (taken explicitly before runs
/// change, since the runs trigger would take them row by row), then the runs. That is decision 0002's order
/// with one lock in front that no other writer takes, so result batches, cancellations and the reaper cannot
/// deadlock with it.
struct QuarantineRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger

    /// Key of the advisory lock that serializes quarantine actions.
    static let lockKey: Int64 = 0x7265_7072_6f71_7561  // "reproqua"

    /// Quarantines `target`: 404 when it does not exist, 409 when it already is quarantined.
    func quarantine(_ target: QuarantineTarget, reason: String, actor: UUID?) async throws -> QuarantineOutcome {
        let outcome = try await client.withTransaction(logger: logger) { connection -> QuarantineOutcome in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            let workers = try await self.workers(of: target, on: connection)
            if try await activeQuarantine(of: target, on: connection) != nil {
                throw Problem.conflict("This \(target.scope) is already quarantined.", field: "id")
            }
            let rows = try await connection.query(
                """
                INSERT INTO quarantines (worker_id, account_id, reason, created_by)
                VALUES (\(target.workerID), \(target.accountID), \(reason), \(actor))
                RETURNING id
                """, logger: logger)
            var quarantineID: Int64 = 0
            for try await id in rows.decode(Int64.self) { quarantineID = id }

            let accepted = try await runs(of: workers, excluded: false, on: connection)
            let heldRows = try await connection.query(
                """
                SELECT id FROM tasks
                WHERE worker_id = ANY(\(workers)::uuid[]) AND state IN ('leased', 'queued') AND lease_id IS NOT NULL
                """, logger: logger)
            var held = Set<Int64>()
            for try await id in heldRows.decode(Int64.self) { held.insert(id) }
            let tasks = try await lockTasks(Set(accepted.map(\.task)).union(held), on: connection)
            let plan = QuarantinePlan.quarantine(tasks: tasks, accepted: accepted, held: held)
            try await write(plan, on: connection)
            try await notifyWorkers(on: connection)
            try await record(
                quarantineID, action: "quarantine", target: target, actor: actor, reason: reason, plan: plan,
                on: connection)
            return QuarantineOutcome(
                quarantineID: quarantineID, action: "quarantine", workers: workers,
                runsExcluded: plan.runsExcluded.count,
                runsRestored: 0, runsSuperseded: 0, tasksRequeued: plan.tasksRequeued.count)
        }
        logger.notice(
            "quarantined",
            metadata: [
                "repro.quarantine.id": "\(outcome.quarantineID)", "repro.quarantine.scope": "\(target.scope)",
                "repro.quarantine.actor": "\(actor.map(\.uuidString) ?? "automatic")",
                "repro.runs.excluded": "\(outcome.runsExcluded)", "repro.tasks.requeued": "\(outcome.tasksRequeued)",
            ])
        return outcome
    }

    /// Lifts the active quarantine of `target`: 409 when there is none (the worker or account exists, so
    /// not 404). Runs of workers still covered by
    /// another quarantine (a worker of a quarantined account) stay excluded.
    func release(_ target: QuarantineTarget, reason: String, actor: UUID?) async throws -> QuarantineOutcome {
        let outcome = try await client.withTransaction(logger: logger) { connection -> QuarantineOutcome in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            let workers = try await self.workers(of: target, on: connection)
            guard let quarantineID = try await activeQuarantine(of: target, on: connection) else {
                throw Problem.conflict("This \(target.scope) is not quarantined.", field: "id")
            }
            try await connection.query(
                "UPDATE quarantines SET released_at = now(), released_by = \(actor) WHERE id = \(quarantineID)",
                logger: logger)
            let stillCovered = try await quarantinedWorkers(among: workers, on: connection)
            let released = workers.filter { !stillCovered.contains($0) }
            let excluded = try await runs(of: released, excluded: true, on: connection)
            let tasks = try await lockTasks(Set(excluded.map(\.task)), on: connection)
            let plan = QuarantinePlan.release(tasks: tasks, excluded: excluded)
            try await write(plan, on: connection)
            try await notifyWorkers(on: connection)
            try await record(
                quarantineID, action: "release", target: target, actor: actor, reason: reason, plan: plan,
                on: connection)
            return QuarantineOutcome(
                quarantineID: quarantineID, action: "release", workers: released, runsExcluded: 0,
                runsRestored: plan.runsRestored.count, runsSuperseded: plan.runsSuperseded.count, tasksRequeued: 0)
        }
        logger.notice(
            "quarantine lifted",
            metadata: [
                "repro.quarantine.id": "\(outcome.quarantineID)", "repro.quarantine.scope": "\(target.scope)",
                "repro.runs.restored": "\(outcome.runsRestored)", "repro.runs.superseded": "\(outcome.runsSuperseded)",
            ])
        return outcome
    }

    /// The reason a worker may not lease, when it or its account is quarantined.
    // The lease statement's gate (`LeaseStatement`) tests the same rows (active, of the worker or of its
    // owner account): a change to what counts as quarantined changes both.
    func quarantineReason(worker: UUID) async throws -> String? {
        let rows = try await client.query(
            """
            SELECT q.reason FROM quarantines q JOIN workers w ON q.worker_id = w.id OR q.account_id = w.owner_account_id
            WHERE w.id = \(worker) AND q.released_at IS NULL
            ORDER BY q.id LIMIT 1
            """, logger: logger)
        for try await reason in rows.decode(String.self) { return reason }
        return nil
    }

    /// The quarantine log, newest first.
    func events(limit: Int) async throws -> [QuarantineEvent] {
        let rows = try await client.query(
            """
            SELECT id, quarantine_id, action, worker_id, account_id, actor, reason, runs_excluded, runs_restored,
                   tasks_requeued, at
            FROM quarantine_events ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var events: [QuarantineEvent] = []
        for try await row in rows.decode((Int64, Int64, String, UUID?, UUID?, UUID?, String, Int, Int, Int, Date).self)
        {
            events.append(
                QuarantineEvent(
                    id: row.0, quarantineID: row.1, action: row.2, workerID: row.3, accountID: row.4, actor: row.5,
                    reason: row.6, runsExcluded: row.7, runsRestored: row.8, tasksRequeued: row.9, at: row.10))
        }
        return events
    }

    // MARK: - Reads inside the transaction

    /// The workers `target` covers; 404 when the worker or account does not exist.
    private func workers(of target: QuarantineTarget, on connection: PostgresConnection) async throws -> [UUID] {
        switch target {
        case .worker(let id):
            let rows = try await connection.query("SELECT id FROM workers WHERE id = \(id)", logger: logger)
            for try await found in rows.decode(UUID.self) { return [found] }
            throw Problem.notFound("No worker \(id).", field: "id")
        case .account(let id):
            let exists = try await connection.query("SELECT 1 FROM accounts WHERE id = \(id)", logger: logger)
            var found = false
            for try await _ in exists { found = true }
            guard found else { throw Problem.notFound("No account \(id).", field: "id") }
            let rows = try await connection.query(
                "SELECT id FROM workers WHERE owner_account_id = \(id) ORDER BY id", logger: logger)
            var ids: [UUID] = []
            for try await worker in rows.decode(UUID.self) { ids.append(worker) }
            return ids
        }
    }

    private func activeQuarantine(of target: QuarantineTarget, on connection: PostgresConnection) async throws -> Int64?
    {
        let rows = try await connection.query(
            """
            SELECT id FROM quarantines
            WHERE released_at IS NULL
              AND (worker_id = \(target.workerID) OR account_id = \(target.accountID))
            """, logger: logger)
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    /// Those of `workers` that an active quarantine covers (their own or their account's).
    private func quarantinedWorkers(among workers: [UUID], on connection: PostgresConnection) async throws -> Set<UUID>
    {
        let rows = try await connection.query(
            """
            SELECT w.id FROM workers w
            WHERE w.id = ANY(\(workers)::uuid[]) AND EXISTS (
                SELECT 1 FROM quarantines q
                WHERE q.released_at IS NULL AND (q.worker_id = w.id OR q.account_id = w.owner_account_id))
            """, logger: logger)
        var covered = Set<UUID>()
        for try await id in rows.decode(UUID.self) { covered.insert(id) }
        return covered
    }

    /// Accepted runs of `workers` (excluded: false), or those excluded by a quarantine (excluded: true).
    private func runs(of workers: [UUID], excluded: Bool, on connection: PostgresConnection) async throws
        -> [QuarantinePlan.RunRow]
    {
        guard !workers.isEmpty else { return [] }
        let rows =
            excluded
            ? try await connection.query(
                "SELECT id, task_id FROM runs WHERE worker_id = ANY(\(workers)::uuid[]) AND excluded = 'quarantine'",
                logger: logger)
            : try await connection.query(
                "SELECT id, task_id FROM runs WHERE worker_id = ANY(\(workers)::uuid[]) AND accepted", logger: logger)
        var runs: [QuarantinePlan.RunRow] = []
        for try await (id, task) in rows.decode((Int64, Int64).self) { runs.append(.init(id: id, task: task)) }
        return runs
    }

    /// Locks the tasks in id order (decision 0002) and reads them with their study's state and whether
    /// they have an accepted run.
    private func lockTasks(_ ids: Set<Int64>, on connection: PostgresConnection) async throws -> [QuarantinePlan
        .TaskRow]
    {
        guard !ids.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            SELECT t.id, t.state, t.study_id, s.state,
                   EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id AND r.accepted)
            FROM tasks t JOIN studies s ON s.id = t.study_id
            WHERE t.id = ANY(\(Array(ids))::bigint[])
            ORDER BY t.id
            FOR UPDATE OF t
            """, logger: logger)
        var tasks: [QuarantinePlan.TaskRow] = []
        for try await (id, state, study, studyState, accepted) in rows.decode((Int64, String, UUID, String, Bool).self)
        {
            tasks.append(.init(id: id, state: state, study: study, studyState: studyState, hasAcceptedRun: accepted))
        }
        return tasks
    }

    // MARK: - Writes

    /// Writes the plan: studies (in id order), then preprints locked in id order, then runs, then tasks.
    private func write(_ plan: QuarantinePlan, on connection: PostgresConnection) async throws {
        let studies = Set(plan.reopenedByStudy.keys).union(plan.closedByStudy.keys).sorted {
            $0.uuidString < $1.uuidString
        }
        for study in studies {
            let reopened = plan.reopenedByStudy[study] ?? 0
            let closed = plan.closedByStudy[study] ?? 0
            // A completed study with tasks to redo runs again; one whose last open task closes completes,
            // unless it is an adaptive study that still grows (TaskQueue.closeTasks).
            try await connection.query(
                """
                UPDATE studies
                SET open_tasks = open_tasks + \(reopened) - \(closed),
                    state = CASE WHEN open_tasks + \(reopened) - \(closed) = 0 AND adaptive_growing = 0 THEN 'completed'
                                 ELSE 'running' END,
                    completed_at = CASE WHEN open_tasks + \(reopened) - \(closed) = 0 AND adaptive_growing = 0
                                        THEN coalesce(completed_at, now()) ELSE NULL END,
                    adaptive_pending = adaptive_pending OR adaptive_growing > 0
                WHERE id = \(study) AND state IN ('running', 'completed')
                """, logger: logger)
        }
        let changedRuns = plan.runsExcluded + plan.runsRestored + plan.runsSuperseded
        guard !changedRuns.isEmpty || !plan.tasksRequeued.isEmpty else { return }
        try await connection.query(
            """
            SELECT 1 FROM preprints
            WHERE id IN (SELECT s.preprint_id FROM runs r JOIN studies s ON s.id = r.study_id
                         WHERE r.id = ANY(\(changedRuns)::bigint[]))
            ORDER BY id FOR UPDATE
            """, logger: logger)
        try await connection.query(
            """
            UPDATE runs SET
                accepted = id = ANY(\(plan.runsRestored)::bigint[]),
                excluded = CASE WHEN id = ANY(\(plan.runsExcluded)::bigint[]) THEN 'quarantine'
                                WHEN id = ANY(\(plan.runsSuperseded)::bigint[]) THEN 'superseded' END
            WHERE id = ANY(\(changedRuns)::bigint[])
            """, logger: logger)
        try await connection.query(
            """
            UPDATE tasks SET state = 'queued', lease_id = NULL, lease_expires_at = NULL, progress = NULL,
                attempts = 0, not_before = now(), updated_at = now(),
                last_error = 'requeued: the worker that ran it was quarantined'
            WHERE id = ANY(\(plan.tasksRequeued)::bigint[])
            """, logger: logger)
        try await connection.query(
            """
            UPDATE tasks SET state = 'succeeded', lease_expires_at = NULL, progress = NULL, updated_at = now()
            WHERE id = ANY(\(plan.tasksSucceeded)::bigint[])
            """, logger: logger)
        if !plan.tasksRequeued.isEmpty {
            try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'requeue')", logger: logger)
        }
    }

    /// Wakes waiting workers and makes their earlier empty looks stale (``EmptyLooks``): a worker that
    /// looked in vain before it was quarantined must be checked again, and told, at its next poll; one
    /// released from quarantine looks again too. Delivered only if the transaction commits.
    private func notifyWorkers(on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'quarantine')", logger: logger)
    }

    private func record(
        _ quarantineID: Int64, action: String, target: QuarantineTarget, actor: UUID?, reason: String,
        plan: QuarantinePlan, on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            INSERT INTO quarantine_events (quarantine_id, action, worker_id, account_id, actor, reason, runs_excluded,
                                           runs_restored, tasks_requeued)
            VALUES (\(quarantineID), \(action), \(target.workerID), \(target.accountID), \(actor), \(reason),
                    \(plan.runsExcluded.count), \(plan.runsRestored.count), \(plan.tasksRequeued.count))
            """, logger: logger)
    }
}
