import Foundation
import Logging
import PostgresNIO
import ReproCoordinator

/// Many registered workers at once, written straight into the database: registering 10 000 through
/// the API would take minutes and measure registration, not idling. The rows are the ones
/// `AccountRepository.registerWorker` writes (a `worker` account, its key hash, the worker row).
enum BulkWorkers {
    /// Creates `count` workers under one volunteer account and returns their tokens.
    static func create(count: Int, database: DatabaseURL, logger: Logger) async throws -> [String] {
        let tokens = (0..<count).map { _ in APIKey.generate() }
        let hashes = tokens.map { token in APIKey.hash(token).map { String(format: "%02x", $0) }.joined() }
        let prefixes = tokens.map { APIKey.prefix($0) }
        let names = (0..<count).map { "idle-\($0)" }
        let client = PostgresClient(configuration: try database.configuration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        // One statement, so one transaction.
        try await client.query(
            """
            WITH owner AS (
                INSERT INTO accounts (name, roles) VALUES ('idle-volunteer', ARRAY['volunteer']) RETURNING id
            ), input AS (
                SELECT * FROM unnest(\(names)::text[], \(hashes)::text[], \(prefixes)::text[]) AS i(name, hash, prefix)
            ), made AS (
                INSERT INTO accounts (name, roles) SELECT name, ARRAY['worker'] FROM input RETURNING id, name
            ), keys AS (
                INSERT INTO api_keys (account_id, key_hash, prefix)
                SELECT made.id, decode(input.hash, 'hex'), input.prefix FROM made JOIN input USING (name)
            )
            INSERT INTO workers (account_id, owner_account_id, name, slots, cpus, memory_bytes, gpus, hardware_class)
            SELECT made.id, owner.id, made.name, 1, 1, \(Int64(8 << 30)), 0, 'idle' FROM made, owner
            """, logger: logger)
        return tokens
    }
}
