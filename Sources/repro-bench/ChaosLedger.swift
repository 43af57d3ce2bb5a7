import Foundation
import Logging
import PostgresNIO

/// What the database says after a chaos run: the exactly-once invariants, attempts per task, and
/// whether the preprint's score caught up. Read through the benchmark's own pool, which reconnects by
/// itself after each PostgreSQL restart.
struct ChaosLedger: Sendable {
    let client: PostgresClient
    let logger: Logger

    struct Invariants: Sendable {
        var tasks: Int64
        var succeeded: Int64
        var acceptedRuns: Int64
        var tasksWithTwoAcceptedRuns: Int64
        var runRows: Int64
        /// Attempts → tasks with that many attempts.
        var attempts: [(attempts: Int, tasks: Int64)]

        /// Leases beyond the first of each task (each attempt is one lease).
        var extraLeases: Int64 { attempts.reduce(0) { $0 + Int64($1.attempts - 1) * $1.tasks } }
    }

    /// Succeeded tasks so far; nil while the database cannot answer (it is being restarted).
    func succeeded() async -> Int? {
        guard let rows = try? await client.query("SELECT count(*) FROM tasks WHERE state = 'succeeded'", logger: logger)
        else { return nil }
        return try? await rows.decode(Int.self).first { _ in true }
    }

    func invariants() async throws -> Invariants {
        let rows = try await client.query(
            """
            SELECT (SELECT count(*) FROM tasks),
                   (SELECT count(*) FROM tasks WHERE state = 'succeeded'),
                   (SELECT count(*) FROM runs WHERE accepted),
                   (SELECT count(*) FROM (SELECT task_id FROM runs WHERE accepted
                                          GROUP BY task_id HAVING count(*) > 1) doubled),
                   (SELECT count(*) FROM runs)
            """, logger: logger)
        var figures = Invariants(
            tasks: 0, succeeded: 0, acceptedRuns: 0, tasksWithTwoAcceptedRuns: 0, runRows: 0, attempts: [])
        for try await row in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
            (
                figures.tasks, figures.succeeded, figures.acceptedRuns, figures.tasksWithTwoAcceptedRuns,
                figures.runRows
            ) = row
        }
        let spread = try await client.query(
            "SELECT attempts, count(*) FROM tasks GROUP BY attempts ORDER BY attempts", logger: logger)
        for try await (attempts, tasks) in spread.decode((Int, Int64).self) {
            figures.attempts.append((attempts, tasks))
        }
        return figures
    }

    /// Waits up to `limit` for the preprint's score to count `acceptedRuns` runs and not be stale
    /// (`stale_scores`); returns how long that took, or nil (a stuck score) with the last state seen.
    func scoreSettles(preprint: String, acceptedRuns: Int64, within limit: Duration) async
        -> (settledAfter: Duration?, runs: Int, dirty: Bool)
    {
        let start = ContinuousClock.now
        var last = (runs: -1, dirty: true)
        while ContinuousClock.now - start < limit {
            if let rows = try? await client.query(
                """
                SELECT EXISTS (SELECT FROM stale_scores d WHERE d.preprint_id = p.id), coalesce(s.runs, -1) FROM preprints p
                LEFT JOIN preprint_scores s ON s.preprint_id = p.id WHERE p.id = \(preprint)
                """, logger: logger),
                let row = try? await rows.decode((Bool, Int).self).first(where: { _ in true })
            {
                last = (row.1, row.0)
                if !row.0 && Int64(row.1) == acceptedRuns { return (ContinuousClock.now - start, row.1, false) }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (nil, last.runs, last.dirty)
    }
}
