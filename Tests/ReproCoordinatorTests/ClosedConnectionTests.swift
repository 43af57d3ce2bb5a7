import Foundation
import Logging
import PostgresNIO
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// The PostgresNIO behaviour behind issue 10's hung requests (decision 0006), and what
/// ``DatabaseClient`` makes of it: a query sent on a connection that the server has already closed
/// is written into a channel whose pipeline is gone, with no promise to fail, so it never completes.
@Suite("Closed connections")
struct ClosedConnectionTests {
    @Test("PostgresNIO 1.33.2: a query on a connection the server closed never completes (upstream bug)")
    func queryOnClosedConnectionHangs() async throws {
        try await withTestDatabase { db in
            let url = try DatabaseURL(db.url)
            let socket = try #require(url.unixSocketPath, "the test cluster is reached over its Unix socket")
            let connection = try await PostgresConnection.connect(
                configuration: .init(
                    unixSocketPath: socket, username: url.username, password: url.password, database: url.database),
                id: 1, logger: db.logger)
            try await Self.terminate(connection, using: db.client, logger: db.logger)

            let answered = await Self.finishes(within: .seconds(3)) {
                _ = try? await connection.query("SELECT 1", logger: db.logger)
            }
            #expect(
                !answered,
                """
                PostgresNIO now completes a query on a closed connection: the hang this suite pins down is fixed \
                upstream. DatabaseClient's deadline stays as a safety net; update decision 0006.
                """)
        }
    }

    @Test("the same query through DatabaseClient ends when the connection closes, as DatabaseUnavailable")
    func closeEndsTheHang() async throws {
        try await withTestDatabase { db in
            // A deadline far above the bound below: the call must end because its connection closed.
            let database = DatabaseClient(db.client, deadline: .seconds(60), logger: db.logger)
            let admin = db.client
            let logger = db.logger
            let started = ContinuousClock.now
            await #expect {
                try await database.withConnection { connection in
                    try await Self.terminate(connection, using: admin, logger: logger)
                    _ = try await connection.query("SELECT 1", logger: logger)
                }
            } throws: { error in
                (error as? DatabaseUnavailable)?.reason == .connectionLost
            }
            // Generous: the requirement is "ends long before the deadline" on a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(20))
            // The pool is not poisoned: the next call gets a fresh connection.
            let rows = try await database.query("SELECT 1")
            #expect(rows.rows.count == 1)
        }
    }

    @Test("a transaction whose session the server ends half-way fails at once as DatabaseUnavailable, many times over")
    func transactionOnDyingSession() async throws {
        try await withTestDatabase { db in
            let database = DatabaseClient(db.client, deadline: .seconds(5), logger: db.logger)
            try await db.client.query("CREATE TABLE items (id int)")
            // The race behind the hang (ROLLBACK written while the channel closes) is timing-bound:
            // repeat, so a path that still hangs or loses the error shows up.
            for attempt in 0..<20 {
                let started = ContinuousClock.now
                await #expect(throws: DatabaseUnavailable.self, "attempt \(attempt)") {
                    try await database.withTransaction { connection in
                        try await connection.query("INSERT INTO items VALUES (\(attempt))", logger: db.logger)
                        _ = try await connection.query(
                            "SELECT pg_terminate_backend(pg_backend_pid())", logger: db.logger)
                    }
                }
                #expect(ContinuousClock.now - started < .seconds(15), "attempt \(attempt)")
            }
            // Read as a worker retries a 503: the pool may still hand out a connection closed by the last
            // termination, which the deadline ends (decision 0006); the check is about what committed.
            var committed: Int?
            for _ in 0..<3 where committed == nil {
                do {
                    for try await value in try await database.query("SELECT count(*) FROM items").decode(Int.self) {
                        committed = value
                    }
                } catch is DatabaseUnavailable {
                    continue
                }
            }
            #expect(committed == 0, "no insert of a dead session committed")
        }
    }

    @Test("a problem thrown inside a transaction rolls it back and reaches the caller unchanged")
    func problemInsideTransaction() async throws {
        try await withTestDatabase { db in
            let database = DatabaseClient(db.client, logger: db.logger)
            try await db.client.query("CREATE TABLE items (id int)")
            await #expect(throws: Problem.self) {
                try await database.withTransaction { connection in
                    try await connection.query("INSERT INTO items VALUES (1)", logger: db.logger)
                    throw Problem.conflict("no")
                }
            }
            let count = try await database.query("SELECT count(*) FROM items")
            for try await value in count.decode(Int.self) { #expect(value == 0) }
            // The connection went back to the pool outside any transaction: a later one commits.
            try await database.withTransaction { connection in
                _ = try await connection.query("INSERT INTO items VALUES (2)", logger: db.logger)
            }
            let after = try await database.query("SELECT count(*) FROM items")
            for try await value in after.decode(Int.self) { #expect(value == 1) }
        }
    }

    /// Has the server end `connection`'s session, as a crash or an administrator does, and waits
    /// until the client side has seen it (its pipeline is torn down then).
    static func terminate(_ connection: PostgresConnection, using admin: PostgresClient, logger: Logger) async throws {
        let rows = try await connection.query("SELECT pg_backend_pid()", logger: logger)
        var pid: Int32 = 0
        for try await backend in rows.decode(Int32.self) { pid = backend }
        try await admin.query("SELECT pg_terminate_backend(\(pid))", logger: logger)
        try await connection.closeFuture.get()
    }

    /// Whether `work` returns within `limit`; the work is left running when it does not (it may never end).
    static func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        do {
            try await Deadline(limit).run { _ in await work() }
            return true
        } catch {
            return false
        }
    }
}
