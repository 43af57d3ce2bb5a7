import Foundation
import Logging
import PostgresNIO

/// Applies the `NNNN_name.sql` files of a migrations directory to a database, each exactly once, in
/// number order, recording them in `schema_migrations`.
///
/// Safe to run from several coordinators starting at once. Each file runs in its own transaction
/// that first takes `pg_advisory_xact_lock`, then re-reads `schema_migrations` and skips the file if
/// another process applied it meanwhile. A transaction-scoped lock was chosen over a session lock
/// held across all files because PostgreSQL releases it at COMMIT or ROLLBACK whatever happens in
/// between: a session lock would stay on the pooled connection if the unlock were skipped (a
/// cancelled task, a failed query) and block every later coordinator. Coordinators may interleave
/// between files, but each file's check and application happen under the lock, so none runs twice
/// and none runs before its predecessor committed.
///
/// A file may hold any number of statements. PostgresNIO 1.33.2 has no simple-query protocol (even
/// `simpleQuery` sends Parse/Bind/Execute, which accept one statement), and splitting SQL on `;` by
/// hand breaks on dollar-quoted bodies and `BEGIN ATOMIC` functions. So the file is handed to the
/// server's own parser: `DO $a$ BEGIN EXECUTE $b$<file>$b$; END $a$`, with random quote tags.
/// PL/pgSQL's `EXECUTE` runs a multi-statement string statement by statement, like psql would, and
/// anything that cannot run in a transaction is refused either way.
public struct MigrationRunner: Sendable {
    /// The advisory-lock key shared by every coordinator: the ASCII bytes of "repromig".
    static let lockKey: Int64 = 0x7265_7072_6F6D_6967

    /// The directory holding the `.sql` files.
    public let directory: URL
    private let logger: Logger

    /// Creates a runner for the migrations in `directory` (usually the repository's `migrations/`).
    ///
    /// - Parameter logger: Where to log each applied file (metadata `repro.migration.version`, `.name`).
    public init(directory: URL, logger: Logger) {
        self.directory = directory
        var logger = logger
        logger[metadataKey: "repro.migration.directory"] = "\(directory.path)"
        self.logger = logger
    }

    /// Applies every migration not yet recorded in the database.
    ///
    /// Before applying anything, checks the directory (names, numbering) and that no applied file was
    /// edited since; either problem throws ``DatabaseSetupError`` and leaves the database untouched.
    ///
    /// - Parameter client: A running client for the target database.
    /// - Returns: The migrations this call applied, in order; empty when the database was up to date.
    @discardableResult
    public func apply(using client: PostgresClient) async throws -> [AppliedMigration] {
        let files = try MigrationFile.load(from: directory)

        let recorded = try await inTransaction(client, logger: logger) { connection in
            try await Self.lock(connection, logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            return try await Self.recordedMigrations(connection, logger: logger)
        }
        try verify(recorded: recorded, against: files, logger: logger)

        var applied: [AppliedMigration] = []
        for file in files where recorded[file.version] == nil {
            if let migration = try await apply(file, to: client, logger: logger) {
                applied.append(migration)
            }
        }
        if applied.isEmpty {
            logger.debug("database schema is up to date", metadata: ["repro.migration.count": "\(files.count)"])
        }
        return applied
    }

    /// Applies one file unless another process got there first; returns nil in that case.
    private func apply(_ file: MigrationFile, to client: PostgresClient, logger: Logger) async throws
        -> AppliedMigration?
    {
        var logger = logger
        logger[metadataKey: "repro.migration.version"] = "\(file.version)"
        logger[metadataKey: "repro.migration.name"] = "\(file.name)"
        let started = ContinuousClock.now
        return try await inTransaction(client, logger: logger) { connection in
            try await Self.lock(connection, logger: logger)
            // Read after the lock: under READ COMMITTED this statement sees every commit made before
            // the lock was granted, including another coordinator's copy of this very file.
            let rows = try await connection.query(
                "SELECT checksum FROM schema_migrations WHERE version = \(file.version)", logger: logger)
            var recordedChecksum: String?
            for try await checksum in rows.decode(String.self) {
                recordedChecksum = checksum
            }
            if let recordedChecksum {
                try Self.checkUnchanged(file, recordedChecksum: recordedChecksum)
                logger.debug("migration already applied by another process")
                return nil
            }
            do {
                try await connection.query(Self.executeQuery(for: file.sql), logger: logger)
            } catch let error as PSQLError {
                throw Self.describeFailure(of: file, error)
            }
            try await connection.query(
                """
                INSERT INTO schema_migrations (version, name, checksum)
                VALUES (\(file.version), \(file.name), \(file.checksum))
                """,
                logger: logger
            )
            let milliseconds = (ContinuousClock.now - started) / .milliseconds(1)
            logger.info(
                "applied migration \(file.fileName)", metadata: ["repro.migration.duration_ms": "\(Int(milliseconds))"])
            return AppliedMigration(version: file.version, name: file.name, checksum: file.checksum)
        }
    }

    private func verify(recorded: [Int: AppliedMigration], against files: [MigrationFile], logger: Logger)
        throws(DatabaseSetupError)
    {
        for file in files {
            if let migration = recorded[file.version] {
                try Self.checkUnchanged(file, recordedChecksum: migration.checksum)
            }
        }
        // A newer coordinator may have applied files this one does not have yet (rolling upgrade):
        // worth a warning, not a refusal to start.
        for migration in recorded.values.sorted(by: { $0.version < $1.version }) where migration.version > files.count {
            logger.warning(
                "database has migration \(migration.fileName), which is not in the migrations directory",
                metadata: ["repro.migration.version": "\(migration.version)"])
        }
    }

    private static func checkUnchanged(_ file: MigrationFile, recordedChecksum: String) throws(DatabaseSetupError) {
        guard file.checksum != recordedChecksum else { return }
        throw DatabaseSetupError(
            .migrationChanged,
            "migration \(file.fileName) was changed after it was applied "
                + "(checksum \(recordedChecksum.prefix(12))…≠\(file.checksum.prefix(12))…); "
                + "restore it and add a new migration instead")
    }

    private static func lock(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
    }

    private static func recordedMigrations(_ connection: PostgresConnection, logger: Logger) async throws
        -> [Int: AppliedMigration]
    {
        var recorded: [Int: AppliedMigration] = [:]
        let rows = try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded[version] = AppliedMigration(version: version, name: name, checksum: checksum)
        }
        return recorded
    }

    /// Wraps a file's SQL so the extended protocol's one-statement rule does not apply (see the type's
    /// documentation). The random tags cannot clash with the file's own dollar quotes.
    static func executeQuery(for sql: String) -> PostgresQuery {
        func freshTag() -> String {
            while true {
                let tag = "$repro_" + String(UInt64.random(in: .min ... .max), radix: 36) + "$"
                if !sql.contains(tag) { return tag }
            }
        }
        let outer = freshTag()
        var inner = freshTag()
        while inner == outer { inner = freshTag() }
        return PostgresQuery(unsafeSQL: "DO \(outer) BEGIN EXECUTE \(inner)\(sql)\(inner); END \(outer)")
    }

    /// Turns the server's error into one sentence naming the file and, when the server says where,
    /// the line in the file.
    private static func describeFailure(of file: MigrationFile, _ error: PSQLError) -> DatabaseSetupError {
        guard let info = error.serverInfo, let message = info[.message] else {
            return DatabaseSetupError(
                .migrationFailed, "migration \(file.fileName) failed: \(String(reflecting: error))")
        }
        var text = "migration \(file.fileName) failed: \(message)"
        // Inside EXECUTE the position refers to the file's text (the "internal query"), in characters.
        if let position = info[.internalPosition].flatMap({ Int($0) }), position > 0 {
            let line = file.sql.unicodeScalars.prefix(position - 1).filter { $0 == "\n" }.count + 1
            text += " (line \(line))"
        }
        if let detail = info[.detail] { text += "; \(detail)" }
        if let hint = info[.hint] { text += "; hint: \(hint)" }
        return DatabaseSetupError(.migrationFailed, text)
    }
}

/// Runs `body` in a transaction on one pooled connection, rethrowing `body`'s own error unchanged
/// (PostgresNIO's `withTransaction` wraps it in `PostgresTransactionError`, hiding our messages).
private func inTransaction<Result: Sendable>(
    _ client: PostgresClient, logger: Logger, _ body: (PostgresConnection) async throws -> Result
) async throws -> Result {
    try await client.withConnection { connection in
        try await connection.query("BEGIN", logger: logger)
        do {
            let result = try await body(connection)
            try await connection.query("COMMIT", logger: logger)
            return result
        } catch {
            // If the connection is broken, ROLLBACK fails too and the pool discards the connection.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
