import Foundation
import Logging
import PostgresNIO

/// A statement of the task lifecycle's hot path (lease, heartbeat, result batch), prepared once per
/// pooled connection (issue 16). Each has fixed SQL text with `$n` parameters; ``run(on:prepared:logger:)``
/// executes it as a named prepared statement, or unnamed (parsed and planned per call) when
/// `LeasePolicy.preparedStatements` is off, which is how the benchmark measures what preparing saves.
protocol QueueStatement: PostgresPreparedStatement where Row == PostgresRow {}

extension QueueStatement {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }

    /// The same statement, unnamed.
    func query() throws -> PostgresQuery { PostgresQuery(unsafeSQL: Self.sql, binds: try makeBindings()) }

    /// Runs the statement and reads all its rows.
    @discardableResult
    func run(on connection: PostgresConnection, prepared: Bool, logger: Logger) async throws -> DatabaseRows {
        if prepared {
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(self, logger: logger) { rows.append(row) }
            return DatabaseRows(rows)
        }
        return DatabaseRows(try await connection.query(try query(), logger: logger).collect())
    }
}

/// Locks a result batch's task rows in id order and reads them (``TaskQueue/record(results:worker:)``).
struct LockTasksStatement: QueueStatement {
    typealias Row = PostgresRow
    static let name = "repro_lock_tasks_v1"
    static let sql = """
        SELECT id, state, lease_id, worker_id, attempts, max_attempts, study_id
        FROM tasks WHERE id = ANY($1::bigint[])
        ORDER BY id
        FOR UPDATE
        """
    let ids: [Int64]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(ids)
        return bindings
    }
}

/// The runs already stored for a batch's leases (a resent result).
struct RecordedRunsStatement: QueueStatement {
    typealias Row = PostgresRow
    static let name = "repro_recorded_runs_v1"
    static let sql = "SELECT lease_id, accepted, worker_id FROM runs WHERE lease_id = ANY($1::uuid[])"
    let leases: [UUID]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(leases)
        return bindings
    }
}

/// Inserts a batch's runs and metrics, applies its task changes and appends its closures (tasks that
/// reached an end state, per study), in one statement; returns, per study that closed tasks and still runs,
/// its open tasks left as this transaction sees them and whether it grows (``TaskQueue/closeTasks(_:on:)``).
/// The closures were a statement of their own per study before (issue 16: one round trip more per cycle).
struct WriteResultsStatement: QueueStatement {
    typealias Row = PostgresRow
    static let name = "repro_write_results_v2"
    static let sql = """
        WITH planned AS (
            SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
                task_id bigint, study_id uuid, lease_id uuid, attempt int, outcome text, accepted boolean,
                exit_code int, duration_seconds float8, error text, log_tail text, fingerprint jsonb,
                hardware_class text)
        ), inserted AS (
            INSERT INTO runs (task_id, study_id, lease_id, worker_id, attempt, outcome, accepted, exit_code,
                              duration_seconds, error, log_tail, fingerprint, hardware_class)
            SELECT task_id, study_id, lease_id, $2, attempt, outcome, accepted, exit_code,
                   duration_seconds, error, log_tail, fingerprint, hardware_class
            FROM planned ORDER BY task_id
            RETURNING id, lease_id
        ), changed AS (
            UPDATE tasks t
            SET state = c.state, attempts = c.attempts, last_error = coalesce(c.last_error, t.last_error),
                progress = NULL, lease_expires_at = NULL, updated_at = now(),
                not_before = CASE WHEN c.state = 'queued' THEN now() + make_interval(secs => c.delay)
                                  ELSE t.not_before END
            FROM jsonb_to_recordset($3::jsonb) AS c(id bigint, state text, attempts int, last_error text,
                                                     delay float8)
            WHERE t.id = c.id
        ), metrics AS (
            INSERT INTO run_metrics (run_id, name, value)
            SELECT i.id, m.name, m.value
            FROM unnest($4::uuid[], $5::text[], $6::float8[]) AS m(lease_id, name, value)
            JOIN inserted i ON i.lease_id = m.lease_id
        ), added AS (
            INSERT INTO study_closures (study_id, closed)
            SELECT * FROM unnest($7::uuid[], $8::int[]) AS a(study_id, closed)
            RETURNING study_id, closed
        )
        -- The closures just added are not visible to the sum (one snapshot): they are counted from `added`.
        SELECT s.id,
               s.open_tasks - a.closed
               - coalesce((SELECT sum(c.closed) FROM study_closures c WHERE c.study_id = s.id), 0)::int,
               s.adaptive_growing > 0
        FROM added a JOIN studies s ON s.id = a.study_id
        WHERE s.state = 'running'
        ORDER BY s.id
        """
    let runs: String
    let worker: UUID
    let changes: String
    let metricLeases: [UUID]
    let metricNames: [String]
    let metricValues: [Double]
    let closedStudies: [UUID]
    let closedCounts: [Int32]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 8)
        bindings.append(runs)
        bindings.append(worker)
        bindings.append(changes)
        bindings.append(metricLeases)
        bindings.append(metricNames)
        bindings.append(metricValues)
        bindings.append(closedStudies)
        bindings.append(closedCounts)
        return bindings
    }
}

/// Extends a worker's leases (``TaskQueue/heartbeat(worker:beats:)``).
///
/// A queued task still naming the lease is taken back only when no result of that lease is recorded: the
/// reaper requeued it while the worker was still on it (its result waiting in the spool, issue 10 part 3).
/// A task queued by the lease's own result (a failed or interrupted attempt, queued for its next one) keeps
/// the lease id too, and a heartbeat sent before that result was acknowledged and served after it would
/// otherwise put the task back to `leased` for a worker that is done with it (seen once: a worker stopped
/// with SIGTERM left its two interrupted tasks leased until their TTL ran out).
struct HeartbeatStatement: QueueStatement {
    typealias Row = PostgresRow
    static let name = "repro_heartbeat_v2"
    static let sql = """
        UPDATE tasks t
        SET lease_expires_at = now() + make_interval(secs => $1), state = 'leased',
            progress = NULLIF(h.progress, ''), updated_at = now()
        FROM unnest($2::bigint[], $3::uuid[], $4::text[]) AS h(task_id, lease_id, progress)
        WHERE t.id = h.task_id AND t.lease_id = h.lease_id AND t.worker_id = $5
          AND (t.state = 'leased'
               OR (t.state = 'queued' AND NOT EXISTS (SELECT FROM runs r WHERE r.lease_id = h.lease_id)))
        RETURNING t.id, t.lease_expires_at
        """
    let ttlSeconds: Double
    let ids: [Int64]
    let leases: [UUID]
    let progress: [String]
    let worker: UUID

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(ttlSeconds)
        bindings.append(ids)
        bindings.append(leases)
        bindings.append(progress)
        bindings.append(worker)
        return bindings
    }
}
