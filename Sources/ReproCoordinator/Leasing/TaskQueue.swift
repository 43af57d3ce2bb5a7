import Foundation
import Logging
import PostgresNIO
import ReproCore

/// The SQL of the task lifecycle: lease, heartbeat, result, reap. Every state change is one statement
/// or one transaction, fenced by the lease id, so concurrent coordinators and late workers cannot
/// produce two accepted results for one task.
public struct TaskQueue: Sendable {
    let client: DatabaseClient
    let policy: LeasePolicy
    let logger: Logger
    /// Shared by the copies of this queue.
    let metricRangeCache = MetricRangeCache()

    /// Creates the queue.
    public init(client: DatabaseClient, policy: LeasePolicy, logger: Logger) {
        self.client = client
        self.policy = policy
        self.logger = logger
    }

    /// Leases up to `max` queued tasks that fit the worker, in one statement.
    ///
    /// `FOR UPDATE SKIP LOCKED` lets concurrent leasers pass over each other's rows instead of waiting;
    /// a replica is a candidate only when no lower replica of its seed group is queued and due, so a batch
    /// holds at most one replica of a group and locks only the rows it leases (issue 16: the batch used to
    /// lock twice its size and keep one replica per group with a window function; the other half stayed
    /// locked until the commit, and concurrent leases scanned past it), and `replica_held_nearby`
    /// keeps a worker from getting a replica of a seed group it already held, so replicas land on
    /// distinct workers. Both rules sit behind `group_size = 1 OR` on purpose: they are per-row lookups on
    /// the group's key, skipped for single-replica groups (a bare `NOT EXISTS` was once planned as an
    /// anti-join over every task the worker ever held, migration 0004), and functions since migration 0018,
    /// so the statement's planning, paid on every call, does not go through them. Tasks that
    /// need the network go only to workers that allow it (`allowNetwork`), checked on the task row
    /// like memory and GPUs (migration 0005). Tasks of studies waiting for review are `held`, outside the
    /// `state = 'queued'` index this walks, so moderation adds no condition here (migration 0006).
    /// Spot-checked groups (`distinct_accounts`, migration 0007) also keep replicas off every worker of
    /// the same volunteer account, so a volunteer cannot confirm their own results with a second machine.
    public func lease(worker: UUID, max: Int, memoryBytes: Int64, gpus: Int, allowNetwork: Bool = false)
        async throws -> [TaskLease]
    {
        let statement = LeaseStatement(
            worker: worker, max: max, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork,
            ttlSeconds: policy.ttlSeconds)
        let prepared = policy.preparedStatements
        let logger = self.logger
        return try await leases(from: try await client.withConnection { connection in
            try await statement.run(on: connection, prepared: prepared, logger: logger)
        })
    }

    /// ``lease(worker:max:memoryBytes:gpus:allowNetwork:)`` on a connection, inside its caller's
    /// transaction (the worker's cycle: results and lease in one).
    func lease(
        worker: UUID, max: Int, memoryBytes: Int64, gpus: Int, allowNetwork: Bool, on connection: PostgresConnection
    ) async throws -> [TaskLease] {
        let statement = LeaseStatement(
            worker: worker, max: max, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork,
            ttlSeconds: policy.ttlSeconds)
        return try await leases(from: try await statement.run(on: connection, prepared: policy.preparedStatements, logger: logger))
    }

    /// Reads the rows of the lease statement: the study's job and manifest come on its first row only.
    func leases(from rows: DatabaseRows) async throws -> [TaskLease] {
        var leases: [TaskLease] = []
        var studies: [UUID: StoredJob] = [:]
        for row in rows.rows {
            var cells = RowCells(row)
            let taskID = try cells.next(Int64.self), leaseID = try cells.next(UUID.self), studyID = try cells.next(UUID.self)
            let dataset = try cells.next(String.self), seed = try cells.next(Int64.self)
            let configuration = try cells.next(String?.self), replica = try cells.next(Int.self)
            let attempt = try cells.next(Int.self), argumentsJSON = try cells.next(String?.self)
            let expires = try cells.next(Date.self)
            if let jobJSON = try cells.next(String?.self) {
                let texts = StoredJob.Texts(job: jobJSON, manifest: try cells.next(String?.self))
                var stored = try Self.storedJobs.value(for: texts) { try StoredJob(texts) }
                if let bytes = try cells.next(String?.self), let keyID = try cells.next(String?.self) {
                    stored.signature = ManifestSignature(signature: bytes, keyID: keyID)
                }
                studies[studyID] = stored
            }
            guard let study = studies[studyID] else { continue }
            // Tasks store no command since migration 0011: the worker rebuilds it from the signed manifest, and
            // the answer leaves it out when there is one (decision 0014), so it is not built here either. A
            // stored command is read only for tasks of studies stored before manifests existed.
            let arguments =
                study.manifest != nil
                ? [] : try argumentsJSON.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            leases.append(
                TaskLease(
                    taskID: taskID, leaseID: leaseID, studyID: studyID, dataset: dataset, seed: seed,
                    configuration: configuration, replica: replica, attempt: attempt, arguments: arguments, job: study.job,
                    leaseExpiresAt: expires, manifest: study.manifest, signature: study.signature))
        }
        return leases.sorted { $0.taskID < $1.taskID }
    }

    /// A study's job and manifest as a lease reads them from its row, decoded.
    struct StoredJob: Sendable {
        /// The stored texts, the key they are kept under.
        struct Texts: Hashable, Sendable {
            var job: String
            var manifest: String?
        }

        var job: JobSpec
        var manifest: JobManifest?
        var signature: ManifestSignature?

        init(_ texts: Texts) throws {
            let decoder = WireCoding.decoder()
            job = try decoder.decode(JobSpec.self, from: Data(texts.job.utf8))
            // Passed on as stored, even when unreadable or unsigned: the worker is the one that checks, and
            // refuses the task with the reason (decision 0007).
            manifest = texts.manifest.flatMap { try? decoder.decode(JobManifest.self, from: Data($0.utf8)) }
        }
    }

    /// Decoded jobs and manifests per stored texts: every lease batch of a study reads the same ones, and
    /// decoding them each time was 1.3 % of the benchmark process's CPU at batch 50 (issue 16). Keyed by
    /// the texts, so an edited row is decoded afresh. 64 studies: a manifest is bounded by the spec's size
    /// limit (256 KiB by default), so the memo holds tens of MiB at worst and usually a few KiB.
    static let storedJobs = WireMemo<StoredJob.Texts, StoredJob>(capacity: 64)

    /// Extends all of a worker's leases in one statement. A lease that expired and was requeued but
    /// not leased again is taken back (the worker is still on it). Anything else gets `stop`.
    public func heartbeat(worker: UUID, beats: [HeartbeatRequest.Beat]) async throws -> [HeartbeatResponse.Verdict] {
        guard !beats.isEmpty else { return [] }
        // In task id order, the order every writer locks tasks in, so a heartbeat cannot deadlock with
        // a result batch of the same worker.
        let sorted = beats.sorted { $0.taskID < $1.taskID }
        let ids = sorted.map(\.taskID)
        let leaseIDs = sorted.map(\.leaseID)
        let progress = sorted.map { ResultPlan.storable(String(($0.progress ?? "").prefix(500))) }
        let statement = HeartbeatStatement(
            ttlSeconds: policy.ttlSeconds, ids: ids, leases: leaseIDs, progress: progress, worker: worker)
        let prepared = policy.preparedStatements
        let logger = self.logger
        let rows = try await client.withConnection { connection in
            try await statement.run(on: connection, prepared: prepared, logger: logger)
        }
        var extended: [Int64: Date] = [:]
        for try await (id, expires) in rows.decode((Int64, Date).self) { extended[id] = expires }

        var reasons: [Int64: String] = [:]
        let lost = ids.filter { extended[$0] == nil }
        if !lost.isEmpty {
            let states = try await client.query(
                "SELECT id, state FROM tasks WHERE id = ANY(\(lost)::bigint[])", logger: logger)
            for try await (id, state) in states.decode((Int64, String).self) {
                switch state {
                case "cancelled": reasons[id] = "the study was cancelled"
                case "succeeded": reasons[id] = "the task already has an accepted result"
                case "failed": reasons[id] = "the task failed for good"
                // Not taken back: this lease's result is recorded (the task waits for its next attempt), or the
                // lease was handed back.
                case "queued": reasons[id] = "the lease has ended: its result is recorded or it was handed back"
                default: reasons[id] = "the lease was lost: it expired and the task was leased again"
                }
            }
        }
        return beats.map { beat in
            if let expires = extended[beat.taskID] {
                return .init(taskID: beat.taskID, leaseID: beat.leaseID, action: .continue, reason: nil, leaseExpiresAt: expires)
            }
            return .init(
                taskID: beat.taskID, leaseID: beat.leaseID, action: .stop,
                reason: reasons[beat.taskID] ?? "no such task", leaseExpiresAt: nil)
        }
    }

    /// What one reaper pass did.
    public struct ReapOutcome: Sendable {
        public var requeued: Int
        public var failed: Int
        /// Studies the pass completed: their last open task failed, or their last results' closures were
        /// still pending (`LeasePolicy.closureFoldThreshold`).
        public var completed: Int = 0
    }

    /// Returns expired leases to the queue, or fails their tasks when no attempt is left, then folds every
    /// study's pending closures (the failed tasks' among them) and so completes the studies left without an
    /// open task: two statements, one transaction. Notifies waiting workers when tasks came back, and when
    /// backed-off tasks became due since the last pass (nothing else would wake them).
    public func reapExpiredLeases(tick: Double) async throws -> ReapOutcome {
        let (outcome, due) = try await client.withTransaction(logger: logger) { connection -> (ReapOutcome, Bool) in
            let rows = try await connection.query(
                """
                WITH expired AS (
                    SELECT id FROM tasks
                    WHERE state = 'leased' AND lease_expires_at < now()
                    ORDER BY lease_expires_at
                    LIMIT 1000
                    FOR UPDATE SKIP LOCKED
                ), reaped AS (
                    UPDATE tasks t
                    SET state = CASE WHEN t.attempts >= t.max_attempts THEN 'failed' ELSE 'queued' END,
                        last_error = 'lease expired: the worker stopped sending heartbeats',
                        not_before = now(), updated_at = now()
                    FROM expired WHERE t.id = expired.id
                    RETURNING t.study_id, t.state
                ), closed AS (
                    -- Not referenced below, yet it runs: a data-modifying WITH always executes to completion.
                    INSERT INTO study_closures (study_id, closed)
                    SELECT study_id, count(*) FROM reaped WHERE state = 'failed' GROUP BY study_id
                )
                SELECT (SELECT count(*) FROM reaped WHERE state = 'queued'),
                       (SELECT count(*) FROM reaped WHERE state = 'failed'),
                       EXISTS (SELECT 1 FROM tasks WHERE state = 'queued'
                               AND not_before > now() - make_interval(secs => \(tick * 2)) AND not_before <= now()
                               AND attempts > 0)
                """, logger: logger)
            var outcome = ReapOutcome(requeued: 0, failed: 0)
            var due = false
            for try await (requeued, failed, becameDue) in rows.decode((Int64, Int64, Bool).self) {
                outcome = ReapOutcome(requeued: Int(requeued), failed: Int(failed))
                due = becameDue
            }
            outcome.completed = try await foldPendingClosures(on: connection)
            return (outcome, due)
        }
        if outcome.requeued > 0 || due {
            try await client.query("SELECT pg_notify(\(TaskWakeup.channel), 'requeue')", logger: logger)
        }
        return outcome
    }
}
