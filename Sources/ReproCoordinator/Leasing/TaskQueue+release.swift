import Foundation
import Logging
import PostgresNIO
import ReproCore

extension TaskQueue {
    /// Hands back leases whose answer never reached the worker (its connection closed before or
    /// while the answer was written): the tasks are queued again at once with their attempt given
    /// back, and waiting workers are woken. Returns how many were handed back.
    ///
    /// Fenced by lease id and worker, so a lease that changed meanwhile is left alone. The lease id
    /// and worker are cleared: nobody knows this lease, so no result can come for it, and the worker
    /// must not count as having held a replica of the seed. One statement; the notification is
    /// delivered only if it commits, and PostgreSQL sends one per transaction however many rows.
    func release(_ leases: [TaskLease], worker: UUID) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        // Task id order, the order every writer locks tasks in (decision 0002).
        let sorted = leases.sorted { $0.taskID < $1.taskID }
        let rows = try await client.query(
            """
            WITH released AS (
                UPDATE tasks t
                SET state = 'queued', attempts = t.attempts - 1, lease_id = NULL, worker_id = NULL,
                    lease_expires_at = NULL, progress = NULL, not_before = now(), updated_at = now()
                FROM unnest(\(sorted.map(\.taskID))::bigint[], \(sorted.map(\.leaseID))::uuid[]) AS r(task_id, lease_id)
                WHERE t.id = r.task_id AND t.lease_id = r.lease_id AND t.worker_id = \(worker) AND t.state = 'leased'
                RETURNING t.id
            )
            SELECT count(*) FROM (SELECT pg_notify(\(TaskWakeup.channel), 'released') FROM released) AS notified
            """, logger: logger)
        var released = 0
        for try await count in rows.decode(Int.self) { released = count }
        return released
    }
}
