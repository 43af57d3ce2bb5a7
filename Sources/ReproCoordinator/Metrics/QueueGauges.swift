import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Refreshes the gauges that need the database (tasks by state, the oldest queued task, workers seen
/// in the last minute, stale scores) every `interval`, so a scrape never queries PostgreSQL: ten
/// Prometheus servers scraping each replica every 5 s would otherwise be a load of their own.
///
/// The live states (queued, leased, held) are counted on every refresh. The finished states
/// (succeeded, failed, cancelled) are most of the table and no index narrows them, so their count
/// reads every task: on 1 000 000 tasks it took 599 ms against 24 ms for the live statement
/// (BENCHMARKS.md, "Tasks-by-state gauges"; 2 cores at load average 10). It runs on every
/// `finishedEvery`-th refresh only (once a minute at the 5 s interval), about 1 % of one core per
/// million tasks, and the gauges keep the last count in between: finished counts move slowly, and
/// rates come from the result counters. The cost grows with the table; decision 0012 says what would
/// make it constant.
struct QueueGauges: Service {
    let database: DatabaseClient
    let interval: Duration
    let gate: Gate
    let logger: Logger
    var finishedEvery = 12

    static let finishedStates = ["succeeded", "failed", "cancelled"]

    func run() async throws {
        let passes = PassCounter()
        let every = max(1, finishedEvery)
        await MaintenanceLoop(interval: interval, gate: gate).run(
            failure: "metrics gauges not refreshed", level: .debug, logger: logger
        ) { try await refresh(finished: passes.next() % every == 0) }
    }

    /// One refresh: the live gauges, and with `finished` the finished states' counts too.
    func refresh(finished: Bool = true) async throws {
        let rows = try await database.query(
            """
            SELECT
                (SELECT count(*) FROM tasks WHERE state = 'queued'),
                (SELECT count(*) FROM tasks WHERE state = 'leased'),
                (SELECT count(*) FROM tasks WHERE state = 'held'),
                (SELECT coalesce(extract(epoch FROM now() - min(updated_at)), 0)::float8
                   FROM tasks WHERE state = 'queued' AND not_before <= now()),
                (SELECT count(*) FROM workers WHERE last_seen_at > now() - interval '1 minute'),
                (SELECT count(DISTINCT preprint_id) FROM stale_scores),
                (SELECT coalesce(extract(epoch FROM now() - min(since)), 0)::float8 FROM stale_scores)
            """, logger: logger)
        for try await (queued, leased, held, oldest, workers, stale, lag)
            in rows.decode((Int64, Int64, Int64, Double, Int64, Int64, Double).self)
        {
            CoordinatorMetrics.gauge("reprogrid_tasks", Double(queued), dimensions: [("state", "queued")])
            CoordinatorMetrics.gauge("reprogrid_tasks", Double(leased), dimensions: [("state", "leased")])
            CoordinatorMetrics.gauge("reprogrid_tasks", Double(held), dimensions: [("state", "held")])
            CoordinatorMetrics.gauge("reprogrid_oldest_queued_task_age_seconds", oldest)
            CoordinatorMetrics.gauge("reprogrid_workers_seen_last_minute", Double(workers))
            CoordinatorMetrics.gauge("reprogrid_scores_stale_preprints", Double(stale))
            CoordinatorMetrics.gauge("reprogrid_score_lag_seconds", lag)
        }
        if finished { try await refreshFinished() }
    }

    /// The finished states' counts; a state with no task is 0, not a missing series.
    func refreshFinished() async throws {
        // scripts/bench-task-gauges.sh measures this transaction (finished-serial-seqscan): change both
        // together. One process: the planner's parallel plan was faster by the clock (295 against
        // 599 ms on 1 000 000 tasks) but kept three backends busy for it, for a figure nobody waits on.
        let counts = try await database.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL max_parallel_workers_per_gather = 0", logger: logger)
            let rows = try await connection.query(
                """
                SELECT state, count(*) FROM tasks WHERE state IN ('succeeded', 'failed', 'cancelled') GROUP BY state
                """, logger: logger)
            var counts = Dictionary(uniqueKeysWithValues: Self.finishedStates.map { ($0, Int64(0)) })
            for try await (state, count) in rows.decode((String, Int64).self) { counts[state] = count }
            return counts
        }
        for state in Self.finishedStates {
            CoordinatorMetrics.gauge("reprogrid_tasks", Double(counts[state] ?? 0), dimensions: [("state", state)])
        }
    }
}

/// Counts the refreshes of one `QueueGauges.run`.
private final class PassCounter: Sendable {
    private let count = Mutex(0)

    /// The number of this pass, from 0.
    func next() -> Int { count.withLock { value in defer { value += 1 }; return value } }
}
