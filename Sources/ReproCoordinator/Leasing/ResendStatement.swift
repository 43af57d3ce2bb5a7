import Foundation
import PostgresNIO

/// Sends a worker's lost leases again (decision 0016): tasks leased to `worker` that it does not list
/// as held. A lease answer can be lost after its transaction committed (the commit's acknowledgement
/// never arrived when PostgreSQL crashed, or the request's database deadline ran out after the commit
/// was sent, or the client gave up): the worker then asks again and would otherwise get new tasks
/// while the lost ones sit leased to it until their TTL runs out. As BOINC's scheduler resends lost
/// results, the next request of a worker that was left in doubt names what it holds, and this
/// statement answers the difference with the same lease ids and attempts, their expiry renewed.
///
/// A lease of the same worker may still be running on the server while this runs: its request gave up at
/// the deadline (the connection closed under it), yet a statement the server already executes commits
/// anyway. So a resend first takes the worker's lease fence exclusively (``fence``, in the same
/// transaction): it waits until such a lease has committed or rolled back, and its own statement, run
/// after that, sees the outcome.
///
/// Fenced by worker: only this worker's own leases, and only while still leased. Rows are locked in
/// id order with SKIP LOCKED, so a result or heartbeat of the same task running at this moment wins
/// and the lease is simply not resent this time.
struct ResendStatement: QueueStatement {
    typealias Row = PostgresRow

    static let name = "repro_resend_v1"

    let worker: UUID
    let held: [UUID]
    let max: Int
    let ttlSeconds: Double

    // The scan walks `tasks_lease_expiry` (state = 'leased'), which holds only the leases out now: at
    // most the slots of every worker, and this runs only on a worker's first request after a doubt.
    static let sql = """
        WITH lost AS (
            SELECT t.id FROM tasks t
            WHERE t.state = 'leased' AND t.worker_id = $1 AND NOT (t.lease_id = ANY($2::uuid[]))
            ORDER BY t.id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
        ), leased AS (
            UPDATE tasks t
            SET lease_expires_at = now() + make_interval(secs => $4), updated_at = now()
            FROM lost
            WHERE t.id = lost.id
            RETURNING \(LeaseStatement.leasedColumns)
        ), \(LeaseStatement.answer)
        """

    /// Waits for the worker's lease statements running now (each holds the fence shared) and keeps them
    /// out until the transaction ends. Must run in the resend's transaction, before the resend.
    static func fence(_ worker: UUID) -> PostgresQuery {
        "SELECT pg_advisory_xact_lock(\(LeaseStatement.fenceClass), hashtext(\(worker)::text))"
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(worker)
        bindings.append(held)
        bindings.append(Int64(max))
        bindings.append(ttlSeconds)
        return bindings
    }
}
