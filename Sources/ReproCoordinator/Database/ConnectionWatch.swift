import PostgresNIO
import Synchronization

/// Ends a database call as soon as its connection closes under it.
///
/// After a crash the server closes every session at once. A call still inside its transaction then
/// writes its next statement into the closed channel, where PostgresNIO drops it and never answers
/// (decision 0006); without this the call would wait out its whole deadline. The watch hears of the
/// close from the connection's close future (one callback per connection, however many calls use
/// it) and abandons the call that holds the connection at that moment.
final class ConnectionWatch: Sendable {
    private struct State {
        /// Connections whose close future already has our callback.
        var watched: Set<PostgresConnection.ID> = []
        /// How to end the call that holds each connection now.
        var holders: [PostgresConnection.ID: @Sendable (any Error) -> Void] = [:]
    }

    private let state = Mutex(State())

    /// `connection` is now used by a call that `abandon` ends.
    func hold(_ connection: PostgresConnection, abandon: @escaping @Sendable (any Error) -> Void) {
        let id = connection.id
        let firstUse = state.withLock { state -> Bool in
            state.holders[id] = abandon
            return state.watched.insert(id).inserted
        }
        // Runs at once when the connection has already closed.
        if firstUse { connection.closeFuture.whenComplete { _ in self.closed(id) } }
    }

    /// The call is done with `connection`.
    func release(_ connection: PostgresConnection) {
        _ = state.withLock { $0.holders.removeValue(forKey: connection.id) }
    }

    private func closed(_ id: PostgresConnection.ID) {
        let holder = state.withLock { state -> (@Sendable (any Error) -> Void)? in
            state.watched.remove(id)
            return state.holders.removeValue(forKey: id)
        }
        holder?(DatabaseUnavailable(.connectionLost, underlying: ConnectionClosed(id: id)))
    }
}

/// The connection a call was using closed before the call ended.
struct ConnectionClosed: Error, CustomStringConvertible {
    let id: PostgresConnection.ID
    var description: String { "connection \(id) closed during the call" }
}
