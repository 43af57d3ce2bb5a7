import NIOCore
import PostgresNIO

/// The database could not answer now, but may in a moment: the request is answered 503 with
/// `Retry-After`, and background services try again on their next pass.
///
/// ``DatabaseClient`` turns every error that means this (a lost connection, a server shutting down
/// or recovering, the pool unable to connect, a deadline passed, a transaction the server rolled back
/// to break a deadlock) into this one type, so callers and the HTTP layer need one `catch`, not a
/// list of PostgresNIO codes and SQLSTATEs.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    /// Why the database did not answer.
    public enum Reason: String, Sendable {
        /// No answer within the deadline; the call was abandoned and its connection closed.
        case deadlineExceeded = "deadline_exceeded"
        /// The connection broke (server crash, restart, network).
        case connectionLost = "connection_lost"
        /// No connection could be made, or the server refuses sessions (starting up, recovering,
        /// shutting down, out of connections).
        case unreachable
        /// The server rolled the transaction back to break a deadlock or a serialization conflict;
        /// sending the same request again succeeds.
        case rolledBack = "rolled_back"
        /// The caller stopped waiting (the coordinator is shutting down).
        case interrupted
    }

    /// Seconds a client should wait before trying again: a restarted PostgreSQL usually accepts
    /// sessions again within a few seconds, and a resent request costs little.
    public static let retryAfterSeconds = 2

    public let reason: Reason
    /// What PostgresNIO, the pool or the deadline reported.
    public let underlying: any Error

    /// Creates the error.
    public init(_ reason: Reason, underlying: any Error) {
        self.reason = reason
        self.underlying = underlying
    }

    public var description: String { "database unavailable (\(reason.rawValue)): \(String(reflecting: underlying))" }

    /// `error` as a ``DatabaseUnavailable`` when it means the database cannot answer now; anything
    /// else (a bug, a constraint violation, a ``Problem`` thrown inside a transaction) unchanged.
    public static func classify(_ error: any Error) -> any Error {
        if error is DatabaseUnavailable { return error }
        return reason(for: error).map { DatabaseUnavailable($0, underlying: error) } ?? error
    }

    /// Whether `error` means the connection it came from is gone (so it must not be used again).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        switch reason(for: error) {
        case .connectionLost, .deadlineExceeded, .interrupted: true
        case .unreachable, .rolledBack, nil: false
        }
    }

    private static func reason(for error: any Error) -> Reason? {
        switch error {
        case let unavailable as DatabaseUnavailable:
            return unavailable.reason
        case is DeadlineExceeded:
            return .deadlineExceeded
        case is CancellationError:
            return .interrupted
        case let error as PSQLError:
            return reason(for: error)
        case is ChannelError, is IOError:
            return .connectionLost
        default:
            // The pool's circuit breaker ("connection creation failing" for a while) throws its own
            // error type, which lives in PostgresNIO's underscored, unstable `_ConnectionPoolModule`;
            // matched by name rather than by depending on that module.
            return String(reflecting: type(of: error)).hasSuffix(".ConnectionPoolError") ? .unreachable : nil
        }
    }

    private static func reason(for error: PSQLError) -> Reason? {
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            return .connectionLost
        case .poolClosed, .queryCancelled:
            return .interrupted
        case .server:
            // PostgreSQL ends the session after every FATAL error ("terminating connection due to
            // immediate shutdown command" arrives as one, just before the socket closes).
            if let severity = error.serverInfo?[.severity], severity == "FATAL" || severity == "PANIC" {
                return .connectionLost
            }
            // SQLSTATE classes: 08 connection exception, 57 operator intervention (admin or crash
            // shutdown, "the database system is starting up"), 53 insufficient resources (too many
            // connections), 40 transaction rollback (deadlock, serialization failure).
            switch error.serverInfo?[.sqlState]?.prefix(2) {
            case "08": return .connectionLost
            case "57", "53": return .unreachable
            case "40": return .rolledBack
            default: return nil
            }
        default:
            return nil
        }
    }
}
