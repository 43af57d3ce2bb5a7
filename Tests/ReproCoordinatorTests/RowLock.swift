import PostgresNIO
import ReproTestSupport

@testable import ReproCoordinator

/// A transaction the test holds open with rows locked, the way another writer's transaction holds them
/// while it runs; released (rolled back) when the test says.
struct RowLock {
    let release: @Sendable () async throws -> Void

    /// Runs `lock` (a `… FOR UPDATE`) in a transaction of its own and returns once the rows are locked.
    static func hold(_ harness: CoordinatorHarness, _ lock: PostgresQuery) async throws -> RowLock {
        let locked = Gate()
        let done = Gate()
        let task = Task {
            // Opened however the transaction ends, so a failed lock is thrown by `release`, not waited on.
            defer { locked.open() }
            try await harness.database.client.withConnection { connection in
                let logger = harness.database.logger
                try await connection.query("BEGIN", logger: logger)
                try await connection.query(lock, logger: logger)
                locked.open()
                await done.wait()
                try await connection.query("ROLLBACK", logger: logger)
            }
        }
        await locked.wait()
        return RowLock(release: {
            done.open()
            try await task.value
        })
    }
}
