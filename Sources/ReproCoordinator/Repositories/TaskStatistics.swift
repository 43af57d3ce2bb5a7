import Logging
import PostgresNIO

/// Refreshes the planner's statistics of `tasks` after a submission that inserted many tasks (issue 16).
///
/// Why: the lease statement's plan depends on them. A `tasks` table that autovacuum has not analysed
/// since it grew (a fresh database, or a large study submitted into a small table) is planned as a
/// bitmap scan of every queued task followed by a sort, instead of walking `tasks_queued` in id order and
/// stopping after the batch: each lease then reads and sorts the whole queue. The peers benchmark
/// measured half the lease rate until autovacuum's next visit, which comes up to `autovacuum_naptime`
/// (a minute by default) later (BENCHMARKS.md, "Planner statistics"). `ANALYZE` samples a fixed number
/// of rows (30 000 at the default statistics target), so it costs well under a second even at a million
/// tasks; it runs after the submission has committed and been answered, beside the leases it helps.
enum TaskStatistics {
    /// A submission inserting at least this many tasks refreshes the statistics. 1 000 since migration 0017:
    /// autovacuum analyses `tasks` only after half its rows changed, so a study of a few thousand tasks
    /// submitted into a large table whose tasks are all done would otherwise be leased with statistics
    /// that say nothing is queued.
    static let threshold = 1_000

    /// Starts `ANALYZE tasks` in the background when `inserted` reaches ``threshold``; returns the task, if
    /// one was started, so a caller may wait for it. A failure (the database busy past the deadline, the
    /// coordinator stopping) is logged and left to autovacuum.
    @discardableResult
    static func refresh(after inserted: Int, client: DatabaseClient, logger: Logger) -> Task<Void, Never>? {
        guard inserted >= threshold else { return nil }
        return Task {
            do {
                // Not under the submitting request's database budget, which a task started here inherits.
                try await DatabaseBudget.$current.withValue(nil) {
                    _ = try await client.query("ANALYZE tasks", logger: logger)
                }
                logger.info("planner statistics of tasks refreshed", metadata: ["repro.tasks.inserted": "\(inserted)"])
            } catch {
                logger.warning(
                    "could not refresh the planner statistics of tasks; autovacuum will",
                    metadata: ["repro.error": "\(String(reflecting: error))"])
            }
        }
    }
}
