import Foundation
import Logging
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// A submission that inserts many tasks refreshes the planner's statistics of `tasks` (issue 16): without
/// them the lease statement reads and sorts the whole queue until autovacuum comes by.
@Suite("Task statistics")
struct TaskStatisticsTests {
    @Test("a large submission analyses tasks after it commits; a small one leaves it to autovacuum")
    func largeSubmissionAnalyses() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            // The boundary off: below the threshold nothing analyses (the test cluster's autovacuum does not
            // come by within the test: it would set last_autoanalyze, not last_analyze).
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 3), key: researcher)
            try await Task.sleep(for: .seconds(1))
            #expect(try await Self.analysed(harness) == false)

            let seeds = TaskStatistics.threshold / 2
            let large = try await harness.submit(
                CoordinatorHarness.spec(
                    bundle: bundle, datasets: ["digits", "wine"], seeds: seeds, preprint: "arXiv:2401.04321"),
                key: researcher)
            #expect(large.taskCount == TaskStatistics.threshold)
            var analysed = false
            for _ in 0..<100 where !analysed {
                try await Task.sleep(for: .milliseconds(200))
                analysed = try await Self.analysed(harness)
            }
            #expect(analysed, "ANALYZE tasks did not run after a \(large.taskCount)-task submission")
            // The planner now knows the table's size (it is -1 for a table never analysed).
            let rows = try await harness.database.client.query(
                "SELECT reltuples::float8 FROM pg_class WHERE oid = 'tasks'::regclass")
            for try await tuples in rows.decode(Double.self) { #expect(tuples >= Double(TaskStatistics.threshold)) }
        }
    }

    /// Whether `tasks` was analysed by a statement (not by autovacuum).
    static func analysed(_ harness: CoordinatorHarness) async throws -> Bool {
        let rows = try await harness.database.client.query(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'tasks'")
        for try await done in rows.decode(Bool.self) { return done }
        return false
    }
}

/// A submission's transaction gets time in proportion to the tasks it inserts (decision 0006, "Large
/// submissions"): the per-call deadline and the request's budget both grow, so neither answers 503 to an
/// insert that is merely large.
@Suite("Submission deadline")
struct SubmissionDeadlineTests {
    @Test("one second more per 25 000 tasks, in the call's deadline and in the request's budget")
    func extraTimeScales() throws {
        #expect(TaskExpansion.extraTime(tasks: 1_000_000) == .seconds(40))
        #expect(TaskExpansion.extraTime(tasks: 10_000) == .milliseconds(400))
        #expect(TaskExpansion.extraTime(tasks: 6) == .zero)

        let pool = PostgresClient(
            configuration: .init(host: "127.0.0.1", username: "nobody", password: nil, database: nil, tls: .disable))
        let client = DatabaseClient(pool, deadline: .seconds(10), logger: Logger(label: "test"))
        let budget = DatabaseBudget(.seconds(10))
        let (longer, limits) = try DatabaseBudget.$current.withValue(budget) { () throws -> (DatabaseClient, [Duration]) in
            let longer = client.allowing(TaskExpansion.extraTime(tasks: 1_000_000))
            return (longer, [try budget.limit(cap: longer.deadline), try budget.limit(cap: client.deadline)])
        }
        #expect(longer.deadline == .seconds(50))
        #expect(limits[0] == .seconds(50))
        // The boundary off: without it the call stops at the plain deadline, as the 503 did.
        #expect(client.deadline == .seconds(10))
        #expect(limits[1] == .seconds(10))
    }
}
