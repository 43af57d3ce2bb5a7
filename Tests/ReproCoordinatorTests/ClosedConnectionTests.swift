import Foundation
import Logging
import PostgresNIO
import ReproTestSupport
import Synchronization
import Testing

@testable import ReproCoordinator

/// The PostgresNIO behaviour behind issue 10's hung requests (decision 0004), pinned down on its own:
/// a query sent on a connection that the server has already closed is written into a channel whose
/// pipeline is gone, with no promise to fail, so it never completes.
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
            let rows = try await connection.query("SELECT pg_backend_pid()", logger: db.logger)
            var pid: Int32 = 0
            for try await backend in rows.decode(Int32.self) { pid = backend }
            // The server ends the session, as a crash or an administrator does.
            try await db.client.query("SELECT pg_terminate_backend(\(pid))")
            try await connection.closeFuture.get()

            let answered = await Self.finishes(within: .seconds(3)) {
                _ = try? await connection.query("SELECT 1", logger: db.logger)
            }
            #expect(
                !answered,
                """
                PostgresNIO now completes a query on a closed connection: the hang this suite pins down is fixed \
                upstream. DatabaseClient's deadline stays as a safety net; update decision 0004.
                """)
        }
    }

    /// Whether `work` returns within `limit`; the work is left running when it does not (it may never end).
    static func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        let first = FirstAnswer()
        return await withCheckedContinuation { continuation in
            first.install(continuation)
            Task {
                await work()
                first.answer(true)
            }
            Task {
                try? await Task.sleep(for: limit)
                first.answer(false)
            }
        }
    }
}

/// Resumes a continuation with the first answer given.
private final class FirstAnswer: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func install(_ continuation: CheckedContinuation<Bool, Never>) { self.continuation.withLock { $0 = continuation } }

    func answer(_ value: Bool) { continuation.withLock { $0.take() }?.resume(returning: value) }
}
