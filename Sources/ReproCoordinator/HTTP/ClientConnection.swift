import NIOCore
import Synchronization

/// Whether the HTTP client behind a request is still there to read the answer.
///
/// A long-poll can wait up to 30 s; a worker killed meanwhile closes its socket, and a lease made
/// for it then would wait out its TTL (issue 10, part 2). ``ClientConnectionWatcher`` marks the
/// connection closed as soon as the server reads the end of the client's stream, and a waiting
/// request can ask, or be called back. The watcher also passes on the server's request to finish
/// (it is shutting down), which ends a parked long-poll's wait as the client's going does.
public final class ClientConnection: Sendable {
    private struct Handler {
        let run: @Sendable () -> Void
        /// Also called when the server starts shutting down.
        let onShutdown: Bool
    }

    private struct State {
        var closed = false
        var shuttingDown = false
        var handlers: [Int: Handler] = [:]
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
        register(Handler(run: handler, onShutdown: false))
    }

    /// Calls `handler` once when the client goes or the server starts shutting down, at once if either
    /// happened already; returns a token for ``removeHandler(_:)``, nil when it was called at once.
    ///
    /// A parked long-poll's wait ends on either (decision 0019). Told by the connection rather than by
    /// ServiceLifecycle's `withGracefulShutdownHandler`, whose async frame would stay in the connection's
    /// task for good (issue 10, part 4).
    public func onCloseOrShutdown(_ handler: @escaping @Sendable () -> Void) -> Int? {
        register(Handler(run: handler, onShutdown: true))
    }

    /// Forgets a handler (its request ended first).
    public func removeHandler(_ token: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// Marks the connection closed and runs every handler, once.
    func markClosed() {
        let handlers = state.withLock { state -> [Handler] in
            guard !state.closed else { return [] }
            state.closed = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler.run() }
    }

    /// Marks the server shutting down and runs the handlers that asked for it, once.
    func markShuttingDown() {
        let handlers = state.withLock { state -> [Handler] in
            guard !state.shuttingDown else { return [] }
            state.shuttingDown = true
            let handlers = state.handlers.filter { $0.value.onShutdown }
            for token in handlers.keys { state.handlers.removeValue(forKey: token) }
            return Array(handlers.values)
        }
        for handler in handlers { handler.run() }
    }

    private func register(_ handler: Handler) -> Int? {
        let token = state.withLock { state -> Int? in
            guard !state.closed, !(handler.onShutdown && state.shuttingDown) else { return nil }
            state.nextHandler += 1
            state.handlers[state.nextHandler] = handler
            return state.nextHandler
        }
        if token == nil { handler.run() }
        return token
    }

    /// The connection state of the HTTP connection `channel`, when the server put a watcher in its
    /// pipeline (the in-process test router has none).
    public static func of(_ channel: any Channel) async -> ClientConnection? {
        try? await channel.pipeline.handler(type: ClientConnectionWatcher.self).map(\.connection).get()
    }
}
