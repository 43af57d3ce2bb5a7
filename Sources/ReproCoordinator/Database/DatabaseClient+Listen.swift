import PostgresNIO

extension DatabaseClient {
    /// Listens on `channel` on a connection of its own until that connection ends, calling
    /// `onEvent` once when listening has begun (a notification may have been missed before) and
    /// once per notification.
    ///
    /// Getting the connection and starting to listen are under the deadline; the session itself has
    /// no limit. It ends with an error when the connection breaks (``DatabaseUnavailable``) and at
    /// once when the caller is cancelled, even if the library never notices the end of the session.
    public func listen(on channel: String, onEvent: @escaping @Sendable () -> Void) async throws {
        try await withConnection { connection, deadline in
            try await connection.listen(on: channel) { notifications in
                deadline.disarm()
                onEvent()
                for try await _ in notifications { onEvent() }
            }
        }
    }
}
