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

    /// Creates the queue.
    public init(client: DatabaseClient, policy: LeasePolicy, logger: Logger) {
        self.client = client
        self.policy = policy
        self.logger = logger
    }

    /// Leases up to `max` queued tasks that fit the worker, in one statement.
    ///
    /// `FOR UPDATE SKIP LOCKED` lets concurrent leasers pass over each other's rows instead of waiting;
    /// the window function keeps at most one replica of a seed group per batch, and the `NOT EXISTS`
    /// keeps a worker from getting a replica of a seed group it already held, so replicas land on
    /// distinct workers. The probe sits behind `group_size = 1 OR` on purpose: that form is a per-row
    /// lookup on `tasks_group_worker`, skipped for single-replica groups, where a bare `NOT EXISTS`
    /// was planned as an anti-join over every task the worker ever held (migration 0004). Tasks that
    /// need the network go only to workers that allow it (`allowNetwork`), checked on the task row
    /// like memory and GPUs (migration 0005). Tasks of studies waiting for review are `held`, outside the
    /// `state = 'queued'` index this walks, so moderation adds no condition here (migration 0006).
    /// Spot-checked groups (`distinct_accounts`, migration 0007) also keep replicas off every worker of
    /// the same volunteer account, so a volunteer cannot confirm their own results with a second machine.
    public func lease(worker: UUID, max: Int, memoryBytes: Int64, gpus: Int, allowNetwork: Bool = false)
        async throws -> [TaskLease]
    {
        let ttl = policy.ttlSeconds
        let scan = max * 2
        let rows = try await client.query(
            """
            WITH candidates AS (
                SELECT t.id, t.study_id, t.seed_group
                FROM tasks t
                WHERE t.state = 'queued' AND t.not_before <= now()
                  AND t.gpus <= \(gpus) AND (t.memory_bytes <= \(memoryBytes) OR \(memoryBytes) = 0)
                  AND (NOT t.network OR \(allowNetwork))
                  AND (t.group_size = 1 OR NOT EXISTS (
                      SELECT 1 FROM tasks s
                      WHERE s.study_id = t.study_id AND s.seed_group = t.seed_group AND s.id <> t.id
                        AND (s.worker_id = \(worker)
                             OR (t.distinct_accounts AND s.worker_id IN (
                                 SELECT o.id FROM workers o JOIN workers me ON me.owner_account_id = o.owner_account_id
                                 WHERE me.id = \(worker))))))
                ORDER BY t.id
                LIMIT \(scan)
                FOR UPDATE SKIP LOCKED
            ), picked AS (
                SELECT id FROM (
                    SELECT id, row_number() OVER (PARTITION BY study_id, seed_group ORDER BY id) AS replica_rank
                    FROM candidates) c
                WHERE replica_rank = 1
                ORDER BY id
                LIMIT \(max)
            )
            UPDATE tasks t
            SET state = 'leased', lease_id = gen_random_uuid(), worker_id = \(worker), attempts = t.attempts + 1,
                lease_expires_at = now() + make_interval(secs => \(ttl)), progress = NULL, updated_at = now()
            FROM picked, studies s
            WHERE t.id = picked.id AND s.id = t.study_id
            RETURNING t.id, t.lease_id, t.study_id, t.dataset, t.seed, t.configuration, t.replica, t.attempts,
                      t.arguments::text, s.job::text, t.lease_expires_at, s.manifest::text, s.manifest_signature,
                      s.signing_key_id
            """, logger: logger)
        var leases: [TaskLease] = []
        let decoder = WireCoding.decoder()
        for try await row in rows.decode(
            (Int64, UUID, UUID, String, Int64, String?, Int, Int, String, String, Date, String?, String?, String?).self)
        {
            let arguments = try decoder.decode([String].self, from: Data(row.8.utf8))
            let job = try decoder.decode(JobSpec.self, from: Data(row.9.utf8))
            // Passed on as stored, even when unreadable or unsigned: the worker is the one that checks, and
            // refuses the task with the reason (decision 0007).
            let manifest = row.11.flatMap { try? decoder.decode(JobManifest.self, from: Data($0.utf8)) }
            var signature: ManifestSignature?
            if let bytes = row.12, let keyID = row.13 { signature = ManifestSignature(signature: bytes, keyID: keyID) }
            leases.append(
                TaskLease(
                    taskID: row.0, leaseID: row.1, studyID: row.2, dataset: row.3, seed: row.4, configuration: row.5,
                    replica: row.6, attempt: row.7, arguments: arguments, job: job, leaseExpiresAt: row.10,
                    manifest: manifest, signature: signature))
        }
        return leases.sorted { $0.taskID < $1.taskID }
    }

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
        let ttl = policy.ttlSeconds
        let rows = try await client.query(
            """
            UPDATE tasks t
            SET lease_expires_at = now() + make_interval(secs => \(ttl)), state = 'leased',
                progress = NULLIF(h.progress, ''), updated_at = now()
            FROM unnest(\(ids)::bigint[], \(leaseIDs)::uuid[], \(progress)::text[]) AS h(task_id, lease_id, progress)
            WHERE t.id = h.task_id AND t.lease_id = h.lease_id AND t.worker_id = \(worker)
              AND t.state IN ('leased', 'queued')
            RETURNING t.id, t.lease_expires_at
            """, logger: logger)
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
    }

    /// Returns expired leases to the queue, or fails their tasks when no attempt is left, and closes
    /// studies whose last task just failed: one statement. Notifies waiting workers when tasks came
    /// back, and when backed-off tasks became due since the last pass (nothing else would wake them).
    public func reapExpiredLeases(tick: Double) async throws -> ReapOutcome {
        let rows = try await client.query(
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
            ), finished AS (
                SELECT study_id, count(*) AS n FROM reaped WHERE state = 'failed' GROUP BY study_id
            ), closed AS (
                -- Not referenced below, yet it runs: a data-modifying WITH always executes to completion.
                UPDATE studies s
                SET open_tasks = s.open_tasks - f.n,
                    state = CASE WHEN s.open_tasks - f.n = 0 THEN 'completed' ELSE s.state END,
                    completed_at = CASE WHEN s.open_tasks - f.n = 0 THEN now() ELSE s.completed_at END
                FROM finished f WHERE s.id = f.study_id AND s.state = 'running'
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
        if outcome.requeued > 0 || due {
            try await client.query("SELECT pg_notify(\(TaskWakeup.channel), 'requeue')", logger: logger)
        }
        return outcome
    }
}
