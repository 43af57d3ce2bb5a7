import Logging
import PostgresNIO

/// EXPLAIN (ANALYZE, BUFFERS) of the lease statement, inside a transaction that is rolled back so the
/// analysed lease changes nothing.
enum LeasePlan {
    static func print(_ statement: String, client: PostgresClient, logger: Logger) async throws {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            // The statement is built by this program from numbers and a UUID; no outside text reaches it.
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, BUFFERS) " + statement), logger: logger)
            Swift.print("lease statement plan:")
            for try await line in rows.decode(String.self) { Swift.print("  " + line) }
            try await connection.query("ROLLBACK", logger: logger)
        }
    }
}
