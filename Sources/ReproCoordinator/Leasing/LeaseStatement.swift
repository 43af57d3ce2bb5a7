import Foundation
import PostgresNIO

/// The lease statement of ``TaskQueue``, as a server-side prepared statement (issue 16): PostgreSQL parses
/// and plans it once per connection instead of once per lease. `LeasePolicy.preparedStatements` off sends
/// the same text as an unnamed statement (what the benchmark compares against).
///
/// How it picks tasks is said at ``TaskQueue/lease(worker:max:memoryBytes:gpus:allowNetwork:)``. A
/// quarantined worker (or one of a quarantined account, decision 0008) gets nothing from it: the check is
/// a one-time gate of this statement, not a query of its own before it (issue 16: that was a second pool
/// call, parsed and planned each time, on every lease request), and it cannot race the lease. Why a worker
/// got nothing is asked only when it got nothing (``LeaseEngine``). It
/// returns the study's job and manifest on the first row of each study only (decision 0014): a batch of
/// 50 leases of one study carries them once. The quarantine gate and the replica rules are plpgsql
/// functions (migration 0018): the statement is planned on every call, and as subqueries they were
/// planned every time although they run only for a quarantined worker or a replicated task.
struct LeaseStatement: QueueStatement {
    typealias Row = PostgresRow

    static let name = "repro_lease_v5"

    /// The class of the advisory lock each lease statement holds, shared, on its worker until it commits
    /// ("RGLF"; the two-key form, apart from the single-key locks elsewhere). A resend takes it exclusively
    /// first (``ResendStatement/fence``), so it waits for a lease of the same worker that is still running
    /// on the server, typically one whose request already gave up at its deadline and whose commit will
    /// stand, and then sees that lease as lost instead of leasing past it (decision 0016). Only the
    /// worker's own key: leases of different workers never wait for each other.
    static let fenceClass: Int32 = 0x5247_4C46

    let worker: UUID
    let max: Int
    let memoryBytes: Int64
    let gpus: Int
    let allowNetwork: Bool
    let ttlSeconds: Double

    static let sql = """
        WITH fence AS MATERIALIZED (
            SELECT pg_advisory_xact_lock_shared(\(fenceClass), hashtext($4::text))
        ), candidates AS (
            SELECT t.id
            FROM tasks t
            WHERE EXISTS (SELECT FROM fence) AND \(fits)
              AND (t.group_size = 1 OR NOT lower_replica_queued(t.study_id, t.seed_group, t.id))
            ORDER BY t.id
            LIMIT $5
            FOR UPDATE SKIP LOCKED
        ), leased AS (
            UPDATE tasks t
            SET state = 'leased', lease_id = gen_random_uuid(), worker_id = $4, attempts = t.attempts + 1,
                lease_expires_at = now() + make_interval(secs => $6), progress = NULL, updated_at = now()
            FROM candidates
            WHERE t.id = candidates.id
            RETURNING \(leasedColumns)
        ), \(answer)
        """

    /// Whether task `t` may go to worker $4, which offers $1 GPUs, $2 bytes of memory and the network when
    /// $3: the lease statement's condition, shared with ``LockedLookStatement``.
    static let fits = """
        NOT (SELECT worker_quarantined($4))
              AND t.state = 'queued' AND t.not_before <= now()
              AND t.gpus <= $1 AND (t.memory_bytes <= $2 OR $2 = 0)
              AND (NOT t.network OR $3)
              AND (t.group_size = 1 OR NOT replica_held_nearby(t.study_id, t.seed_group, t.id, t.distinct_accounts, $4))
        """

    /// The parameters $1–$4 of ``fits``, room left for `capacity` in all.
    static func fitsBindings(
        worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool, capacity: Int
    ) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: capacity)
        bindings.append(Int64(gpus))
        bindings.append(memoryBytes)
        bindings.append(allowNetwork)
        bindings.append(worker)
        return bindings
    }

    /// What the `leased` step of a lease statement returns.
    static let leasedColumns = """
        t.id, t.lease_id, t.study_id, t.dataset, t.seed, t.configuration, t.replica, t.attempts, t.arguments,
                      t.lease_expires_at
        """

    /// The answer of a statement with a `leased` step, in the row shape ``TaskQueue/leases(from:)`` reads:
    /// shared by the lease and ``ResendStatement``.
    static let answer = """
        numbered AS (
            SELECT l.*, row_number() OVER (PARTITION BY l.study_id ORDER BY l.id) = 1 AS first FROM leased l
        )
        -- The study's job and manifest once per study in the batch, not once per task (decision 0014).
        SELECT n.id, n.lease_id, n.study_id, n.dataset, n.seed, n.configuration, n.replica, n.attempts,
               n.arguments::text, n.lease_expires_at, CASE WHEN n.first THEN s.job::text END,
               CASE WHEN n.first THEN s.manifest::text END, CASE WHEN n.first THEN s.manifest_signature END,
               CASE WHEN n.first THEN s.signing_key_id END
        FROM numbered n JOIN studies s ON s.id = n.study_id
        ORDER BY n.id
        """

    func makeBindings() throws -> PostgresBindings {
        var bindings = Self.fitsBindings(
            worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork, capacity: 6)
        bindings.append(Int64(max))
        bindings.append(ttlSeconds)
        return bindings
    }
}
