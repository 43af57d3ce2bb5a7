import NIOCore
import Synchronization

/// Whether the HTTP client behind a request is still there to read the answer.
///
/// A long-poll can wait up to 30 s; a worker killed meanwhile closes its socket, and a lease made
/// for it then would wait out its TTL (issue 10, part 2). ``ClientConnectionWatcher`` marks the
/// connection closed as soon as the server reads the end of the client's stream, and a waiting
/// request can ask, or be called back.
public final class ClientConnection: Sendable {
    private struct State {
        var closed = false
        var handlers: [Int: @Sendable () -> Void] = [:]
        var nextHandler = 0
    }

    private let state = Mutex(State())

    /// Creates the state of a new connection (open).
    public init() {}

    /// True once the client closed its side of the connection (or the connection is gone).
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Calls `handler` once when the client goes, at once if it has already; returns a token for
    /// ``removeHandler(_:)``, nil when it was called at once.
    public func onClose(_ handler: @escaping @Sendable () -> Void) -> Int? {
        let token = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.nextHandler += 1
            state.handlers[state.nextHandler] = handler
            return state.nextHandler
        }
        if token == nil { handler() }
        return token
    }

    /// Forgets a handler (its request ended first).
    public func removeHandler(_ token: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// Marks the connection closed and runs every handler, once.
    func markClosed() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.closed else { return [] }
            state.closed = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler() }
    }

    /// The connection state of the HTTP connection `channel`, when the server put a watcher in its
    /// pipeline (the in-process test router has none).
    public static func of(_ channel: any Channel) async -> ClientConnection? {
        try? await channel.pipeline.handler(type: ClientConnectionWatcher.self).map(\.connection).get()
    }
}
