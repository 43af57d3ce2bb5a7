import Logging
import PostgresNIO
import ServiceLifecycle

/// Refreshes the gauges that need the database (tasks by state, the oldest queued task, workers seen
/// in the last minute, stale scores) every `interval`, so a scrape never queries PostgreSQL: ten
/// Prometheus servers scraping each replica every 5 s would otherwise be a load of their own.
///
/// Each count walks a partial index (queued, leased, held) or a small table; finished tasks, the
/// bulk of the table, are not counted here (results accepted are counters instead).
struct QueueGauges: Service {
    let database: DatabaseClient
    let interval: Duration
    let gate: Gate
    let logger: Logger

    func run() async throws {
        await MaintenanceLoop(interval: interval, gate: gate).run(
            failure: "metrics gauges not refreshed", level: .debug, logger: logger
        ) { try await refresh() }
    }

    func refresh() async throws {
        let rows = try await database.query(
            """
            SELECT
                (SELECT count(*) FROM tasks WHERE state = 'queued'),
                (SELECT count(*) FROM tasks WHERE state = 'leased'),
                (SELECT count(*) FROM tasks WHERE state = 'held'),
                (SELECT coalesce(extract(epoch FROM now() - min(updated_at)), 0)::float8
                   FROM tasks WHERE state = 'queued' AND not_before <= now()),
                (SELECT count(*) FROM workers WHERE last_seen_at > now() - interval '1 minute'),
                (SELECT count(*) FROM preprints WHERE score_dirty),
                (SELECT coalesce(extract(epoch FROM now() - min(score_dirty_since)), 0)::float8
                   FROM preprints WHERE score_dirty)
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
    }
}
