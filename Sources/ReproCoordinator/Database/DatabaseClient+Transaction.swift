import Logging
import PostgresNIO

extension DatabaseClient {
    /// Runs `body` in a transaction on one pooled connection: BEGIN, `body`, COMMIT; on an error, a
    /// ROLLBACK and the error itself rethrown (so a ``Problem`` thrown inside reaches the client as
    /// is). The whole transaction is one call under the deadline.
    ///
    /// Not PostgresNIO's `withTransaction`: that one sends ROLLBACK after any error, also when the
    /// error was the connection dying, and that ROLLBACK is the query that never completes
    /// (decision 0006). The server discards the transaction of a session that ended, so there is
    /// nothing to roll back on a connection that is gone.
    public func withTransaction<T: Sendable>(
        logger: Logger? = nil, file: String = #fileID, line: Int = #line,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = logger ?? self.logger
        return try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger, file: file, line: line)
            let value: T
            do {
                value = try await body(connection)
            } catch {
                await Self.rollBack(connection, after: error, logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger, file: file, line: line)
            return value
        }
    }

    /// Rolls back after `body` failed, unless the connection is gone or going (a FATAL error ends
    /// the session, and PostgreSQL closes the socket right after it).
    static func rollBack(_ connection: PostgresConnection, after error: any Error, logger: Logger) async {
        guard !connection.isClosed, !DatabaseUnavailable.isConnectionLoss(error) else { return }
        do {
            try await connection.query("ROLLBACK", logger: logger)
        } catch {
            // The transaction's state is unknown: the connection must not go back to the pool as is.
            logger.warning(
                "rollback failed; closing the connection",
                metadata: [
                    "repro.error": "\(String(reflecting: error))", "repro.database.connection_id": "\(connection.id)",
                ])
            await settle(connection)
        }
    }
}
