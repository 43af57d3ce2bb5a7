import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The coordinator's way to PostgreSQL: `PostgresClient`'s calls, each under a deadline that holds
/// even when PostgresNIO never completes its future, with every "the database cannot answer now"
/// error turned into ``DatabaseUnavailable``.
///
/// Why (decision 0006): PostgresNIO 1.33.2 writes a query to its channel without a write promise, so
/// a query sent on a connection whose channel the server has just closed is dropped and its future
/// is never completed. `withTransaction` does exactly that with its `ROLLBACK` after a crash, and the
/// request, the score maintainer or the shutdown waiting on it hang for good. Here every call runs
/// under ``Deadline``: when it expires, the call's connection is closed (the server rolls back what
/// it held) and the call is abandoned, so the caller always gets an answer in time. A call whose
/// connection closes under it ends at once (``ConnectionWatch``), and a failed connection is settled
/// before it goes back to the pool, so the pool does not lend it out again.
///
/// The call sites read like PostgresClient's (`query`, `withTransaction`, `withConnection`), so a
/// repository holds a `DatabaseClient` where it held a `PostgresClient`.
public struct DatabaseClient: Sendable {
    /// The pool underneath; tests and benchmarks use it for set-up queries without deadlines.
    public let postgres: PostgresClient
    /// The longest one call may take: waiting for a connection, its statements, reading the rows.
    public private(set) var deadline: Duration
    let logger: Logger
    let watch = ConnectionWatch()
    private let counter = CallCounter()

    /// How many calls this client has made (each a query or a transaction); tests and benchmarks
    /// count what a path costs with it.
    public var calls: Int { counter.value }

    /// Wraps a running (or soon running) pool.
    public init(_ postgres: PostgresClient, deadline: Duration = .seconds(10), logger: Logger) {
        self.postgres = postgres
        self.deadline = deadline
        self.logger = logger
    }

    /// This client with `extra` more time per call, and as much more in the current request's
    /// ``DatabaseBudget``: for a call whose work grows with its input (a study's expansion, decision 0006),
    /// so that the bound stays a bound, proportional to an input that is itself limited.
    func allowing(_ extra: Duration) -> DatabaseClient {
        guard extra > .zero else { return self }
        DatabaseBudget.current?.grant(extra)
        var longer = self
        longer.deadline += extra
        return longer
    }

    /// Runs one statement and reads all its rows.
    @discardableResult
    public func query(
        _ query: PostgresQuery, logger: Logger? = nil, file: String = #fileID, line: Int = #line
    ) async throws -> DatabaseRows {
        let logger = logger ?? self.logger
        return try await withConnection { connection in
            DatabaseRows(try await connection.query(query, logger: logger, file: file, line: line).collect())
        }
    }

    /// Runs `body` on a pooled connection, under the deadline (or what is left of the request's
    /// ``DatabaseBudget``, if less). On expiry the connection is closed and `body` abandoned.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection, _ in try await body(connection) }
    }

    /// ``withConnection(_:)`` whose body may lift the deadline (``Deadline/Handle``) once it is past
    /// the part that must be quick.
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Deadline.Handle) async throws -> T
    ) async throws -> T {
        counter.increment()
        let budget = DatabaseBudget.current
        let limit = try budget?.limit(cap: deadline) ?? deadline
        let started = ContinuousClock.now
        defer { budget?.spend(.now - started) }
        let held = HeldConnection()
        let postgres = self.postgres
        let logger = self.logger
        let watch = self.watch
        do {
            return try await Deadline(limit).run(onExpiry: { held.closeForExpiry(limit: limit, logger: logger) }) {
                deadline in
                // A connection the server closed while it sat idle can still be handed out before the
                // pool hears of it; its first query would be dropped. Such a one goes back and
                // another is taken (the pool has seen the close by then, so a few tries suffice).
                for _ in 0..<Self.staleConnectionRetries {
                    do {
                        return try await postgres.withConnection { connection in
                            guard !connection.isClosed else {
                                await Self.settle(connection)
                                throw StaleConnection()
                            }
                            held.hold(connection)
                            // A call abandoned (its deadline passed, its caller went) while it waited for
                            // this connection must not start: nobody would hear its answer, yet a statement
                            // that commits would stand (a lease nobody knows of, decision 0016). After
                            // `hold`: an expiry that found no connection to close has cancelled the work.
                            if Task.isCancelled {
                                held.release()
                                throw CancellationError()
                            }
                            CoordinatorMetrics.connectionInUse(1)
                            defer { CoordinatorMetrics.connectionInUse(-1) }
                            // Once the connection closes, the next statement the body writes may be
                            // dropped: the call ends then, not at the deadline.
                            watch.hold(connection, abandon: deadline.abandon)
                            defer {
                                watch.release(connection)
                                held.release()
                            }
                            do {
                                return try await body(connection, deadline)
                            } catch {
                                if connection.isClosed || DatabaseUnavailable.isConnectionLoss(error) {
                                    await Self.settle(connection)
                                }
                                throw error
                            }
                        }
                    } catch is StaleConnection {
                        continue
                    }
                }
                throw DatabaseUnavailable(.connectionLost, underlying: StaleConnection())
            }
        } catch {
            throw DatabaseUnavailable.classify(error)
        }
    }

    static let staleConnectionRetries = 3

    /// Closes a connection that failed (if the server has not already) and waits until the pool has
    /// seen it close, before the lease goes back. Released earlier, the pool would take it back as
    /// idle and hand it to the next caller, whose first query PostgresNIO then drops into the closed
    /// channel and never answers (decision 0006). The pool learns of a close in a callback on the
    /// channel's close future, registered before this wait, so it has run when the wait ends.
    static func settle(_ connection: PostgresConnection) async {
        if !connection.isClosed { _ = connection.close() as EventLoopFuture<Void> }
        try? await connection.closeFuture.get()
    }
}

/// A pooled connection that turned out to be closed when it was handed out.
struct StaleConnection: Error, CustomStringConvertible {
    var description: String { "the pool handed out a connection that had closed" }
}

/// The connection a call is using, so an expired deadline can close it from outside the call.
final class HeldConnection: Sendable {
    private let connection = Mutex<PostgresConnection?>(nil)

    func hold(_ connection: PostgresConnection) { self.connection.withLock { $0 = connection } }

    func release() { connection.withLock { $0 = nil } }

    /// Closes the connection if the call still holds one: the server ends the session and rolls back
    /// its transaction, pending futures fail (unless the library lost them), and the pool replaces it.
    func closeForExpiry(limit: Duration, logger: Logger) {
        let connection = self.connection.withLock { $0 }
        logger.warning(
            "database call abandoned at its deadline",
            metadata: [
                "repro.database.deadline_ms":
                    "\(limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000)",
                "repro.database.connection_id": "\(connection.map { "\($0.id)" } ?? "none: still waiting for one")",
            ])
        if let connection {
            // The future-returning close: it does not wait for queries queued on the connection.
            _ = connection.close() as EventLoopFuture<Void>
        }
    }
}

/// A shared count of calls (the client is a struct, copied into every repository).
private final class CallCounter: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func increment() { count.add(1, ordering: .relaxed) }
}
