import Foundation
import PostgresNIO

/// The lease statement of ``TaskQueue``, as a server-side prepared statement (issue 16): a call of the
/// plpgsql function `lease_tasks` (migration 0019), whose one statement is ``body``. `LeasePolicy
/// .preparedStatements` off sends the call as an unnamed statement.
///
/// How it picks tasks is said at ``TaskQueue/lease(worker:max:memoryBytes:gpus:allowNetwork:)``. A
/// quarantined worker (or one of a quarantined account, decision 0008) gets nothing from it: the check is
/// a one-time gate of this statement, not a query of its own before it (issue 16: that was a second pool
/// call, parsed and planned each time, on every lease request), and it cannot race the lease. Why a worker
/// got nothing is asked only when it got nothing (``LeaseEngine``). It
/// returns the study's job and manifest on the first row of each study only (decision 0014): a batch of
/// 50 leases of one study carries them once. The quarantine gate and the replica rules are plpgsql
/// functions (migration 0018).
///
/// Why a function: PostgreSQL planned the statement on every call (its custom plan knows the batch size and
/// the worker's resources, and the generic plan's estimates, made without them, always looked dearer), 0.65 ms
/// of planning per lease at batch 50, 15 % of the statement's time. Its plan is the same for every value a
/// worker sends (the `tasks_queued` index in id order under `LIMIT`), so the function runs it with
/// `plan_cache_mode = force_generic_plan`: planned once per connection, and again only when the tables'
/// statistics change. The update finds its rows through `id = ANY(ARRAY(…))`, which the generic plan turns
/// into an index scan of the primary key; joined to the candidates, it hashed the whole table (the generic
/// plan expects a tenth of the queue from `LIMIT $5`).
struct LeaseStatement: QueueStatement {
    typealias Row = PostgresRow

    static let name = "repro_lease_v6"

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

    static let sql = "SELECT * FROM lease_tasks($1, $2, $3, $4, $5, $6)"

    /// The statement `lease_tasks` runs, as migration 0019 writes it (`LeaseFunctionTests` holds the two
    /// equal): $1 GPUs, $2 bytes of memory and $3 the network the worker offers, $4 the worker, $5 the most
    /// tasks, $6 the lease's time to live in seconds.
    static let body = """
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
            WHERE t.id = ANY (ARRAY(SELECT c.id FROM candidates c))
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
