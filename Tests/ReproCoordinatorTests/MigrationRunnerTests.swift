import ReproTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import ReproCoordinator

@Suite("MigrationRunner")
struct MigrationRunnerTests {
    /// Three files exercising what a naive split on ';' gets wrong: semicolons in strings and
    /// comments, a dollar-quoted PL/pgSQL body, and a `BEGIN ATOMIC` SQL function.
    static let standardFiles: [String: String] = [
        "0001_init.sql": """
        -- accounts; the first table
        CREATE TABLE accounts (id bigint PRIMARY KEY, note text NOT NULL DEFAULT 'a;b');
        INSERT INTO accounts (id) VALUES (1);
        """,
        "0002_functions.sql": """
        CREATE FUNCTION account_count() RETURNS bigint LANGUAGE plpgsql AS $$
        BEGIN
            RETURN (SELECT count(*) FROM accounts); -- ; inside the body
        END
        $$;
        CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
        """,
        "0003_tasks.sql": """
        CREATE TABLE tasks (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts);
        /* block comment; with semicolon */
        INSERT INTO tasks VALUES (1, 1);
        """,
    ]

    @Test func freshDatabaseAppliesAllFilesInOrder() async throws {
        try await withTestDatabase { db in
            let directory = try TemporaryMigrationDirectory(Self.standardFiles)
            let applied = try await MigrationRunner(directory: directory.url, logger: db.logger).apply(using: db.client)
            #expect(applied.map(\.version) == [1, 2, 3])
            #expect(applied.map(\.fileName) == ["0001_init.sql", "0002_functions.sql", "0003_tasks.sql"])

            let recorded = try await Self.recorded(db.client)
            #expect(recorded.map(\.version) == [1, 2, 3])
            #expect(recorded.map(\.name) == ["init", "functions", "tasks"])
            let onDisk = try MigrationFile.load(from: directory.url)
            #expect(recorded.map(\.checksum) == onDisk.map(\.checksum))
            #expect(recorded.allSatisfy { $0.checksum.count == 64 })

            let rows = try await db.client.query("SELECT account_count(), two(), (SELECT note FROM accounts)")
            for try await (count, two, note) in rows.decode((Int, Int, String).self) {
                #expect(count == 1)
                #expect(two == 2)
                #expect(note == "a;b")
            }
        }
    }

    @Test func secondRunIsANoOpAndLaterFilesApplyAlone() async throws {
        try await withTestDatabase { db in
            let directory = try TemporaryMigrationDirectory(Self.standardFiles)
            let runner = MigrationRunner(directory: directory.url, logger: db.logger)
            #expect(try await runner.apply(using: db.client).count == 3)
            #expect(try await runner.apply(using: db.client).isEmpty)

            try directory.write("0004_more.sql", "ALTER TABLE tasks ADD COLUMN title text;")
            let applied = try await runner.apply(using: db.client)
            #expect(applied.map(\.fileName) == ["0004_more.sql"])
            #expect(try await Self.recorded(db.client).count == 4)
        }
    }

    @Test func changedFileIsRefusedBeforeAnythingIsApplied() async throws {
        try await withTestDatabase { db in
            let directory = try TemporaryMigrationDirectory(Self.standardFiles)
            let runner = MigrationRunner(directory: directory.url, logger: db.logger)
            try await runner.apply(using: db.client)

            try directory.write("0001_init.sql", Self.standardFiles["0001_init.sql"]! + "\n-- edited")
            try directory.write("0004_more.sql", "CREATE TABLE more (id int);")
            let error = try await #require(throws: DatabaseSetupError.self) {
                try await runner.apply(using: db.client)
            }
            #expect(error.code == .migrationChanged)
            #expect(error.description.hasPrefix("migration 0001_init.sql was changed after it was applied (checksum "))
            #expect(error.description.contains("≠"))
            #expect(error.description.hasSuffix("restore it and add a new migration instead"))
            // The new file was not applied: the check comes first.
            #expect(try await Self.recorded(db.client).count == 3)
        }
    }

    @Test func concurrentRunnersApplyEachFileExactlyOnce() async throws {
        // Non-idempotent statements (CREATE TABLE without IF NOT EXISTS, INSERT into a unique key)
        // fail if any file ran twice.
        var files: [String: String] = [:]
        for version in 1...8 {
            let number = String(format: "%04d", version)
            files["\(number)_step.sql"] = """
                CREATE TABLE step_\(version) (id int PRIMARY KEY);
                INSERT INTO step_\(version) VALUES (\(version));
                SELECT pg_sleep(0.02);
                """
        }
        let directory = try TemporaryMigrationDirectory(files)
        try await withTestDatabase { db in
            var configuration = try DatabaseURL(db.url).configuration()
            configuration.options.maximumConnections = 2
            try await withPostgresClient(configuration, logger: db.logger) { second in
                let runner = MigrationRunner(directory: directory.url, logger: db.logger)
                let results = try await withThrowingTaskGroup(of: [AppliedMigration].self) { group in
                    for client in [db.client, second, db.client, second] {
                        group.addTask { try await runner.apply(using: client) }
                    }
                    var all: [[AppliedMigration]] = []
                    for try await applied in group { all.append(applied) }
                    return all
                }
                let appliedVersions = results.flatMap { $0.map(\.version) }.sorted()
                #expect(appliedVersions == Array(1...8))
                #expect(try await Self.recorded(db.client).map(\.version) == Array(1...8))
                let rows = try await db.client.query(
                    "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'step\\_%'")
                for try await count in rows.decode(Int.self) {
                    #expect(count == 8)
                }
            }
        }
    }

    @Test func failingFileNamesItsLineAndKeepsEarlierFiles() async throws {
        try await withTestDatabase { db in
            let directory = try TemporaryMigrationDirectory([
                "0001_init.sql": "CREATE TABLE ok (id int);",
                "0002_broken.sql": "CREATE TABLE half (id int);\n\nINSERT INTO missing VALUES (1);\n",
            ])
            let runner = MigrationRunner(directory: directory.url, logger: db.logger)
            let error = try await #require(throws: DatabaseSetupError.self) {
                try await runner.apply(using: db.client)
            }
            #expect(error.code == .migrationFailed)
            #expect(error.description.contains("migration 0002_broken.sql failed"))
            #expect(error.description.contains("relation \"missing\" does not exist"))
            #expect(error.description.contains("(line 3)"))
            #expect(try await Self.recorded(db.client).map(\.version) == [1])
            // The failed file's transaction was rolled back as a whole.
            let rows = try await db.client.query("SELECT count(*) FROM pg_tables WHERE tablename = 'half'")
            for try await count in rows.decode(Int.self) {
                #expect(count == 0)
            }
        }
    }

    @Test(arguments: [
        "1_init.sql", "0001-init.sql", "0001_.sql", "init.sql", "00001_init.sql", "0001_in it.sql", "0001_init.SQL",
    ])
    func badFileNameIsRefused(fileName: String) throws {
        let directory = try TemporaryMigrationDirectory([fileName: "SELECT 1;"])
        let error = try #require(throws: DatabaseSetupError.self) { try MigrationFile.load(from: directory.url) }
        #expect(error.code == .invalidMigrationFileName)
        #expect(error.description.contains("'\(fileName)'"))
    }

    @Test func gapInNumbersIsRefused() throws {
        let directory = try TemporaryMigrationDirectory(["0001_a.sql": "", "0003_c.sql": ""])
        let error = try #require(throws: DatabaseSetupError.self) { try MigrationFile.load(from: directory.url) }
        #expect(error.code == .missingMigrationVersion)
        #expect(error.description.contains("0002"))
        #expect(error.description.contains("0003_c.sql"))
    }

    @Test func firstFileMustBeNumberOne() throws {
        let directory = try TemporaryMigrationDirectory(["0002_b.sql": ""])
        let error = try #require(throws: DatabaseSetupError.self) { try MigrationFile.load(from: directory.url) }
        #expect(error.code == .missingMigrationVersion)
    }

    @Test func duplicateNumberIsRefused() throws {
        let directory = try TemporaryMigrationDirectory(["0001_a.sql": "", "0001_b.sql": ""])
        let error = try #require(throws: DatabaseSetupError.self) { try MigrationFile.load(from: directory.url) }
        #expect(error.code == .duplicateMigrationVersion)
        #expect(error.description.contains("0001_a.sql"))
        #expect(error.description.contains("0001_b.sql"))
    }

    @Test func otherFilesAreIgnored() throws {
        let directory = try TemporaryMigrationDirectory([
            "0001_a.sql": "SELECT 1;", "README.md": "notes", ".0002_hidden.sql": "", "0002_b.sql.orig": "",
        ])
        #expect(try MigrationFile.load(from: directory.url).map(\.fileName) == ["0001_a.sql"])
    }

    @Test func missingDirectoryIsReported() async throws {
        let missing = URL(fileURLWithPath: "/nonexistent/reprogrid-migrations")
        let error = try #require(throws: DatabaseSetupError.self) { try MigrationFile.load(from: missing) }
        #expect(error.code == .unreadableMigrations)
        #expect(error.description.contains(missing.path))
    }

    @Test func executeQueryQuotesWithTagsAbsentFromTheFile() {
        let sql = "SELECT $x$;$x$; SELECT $$a$$;"
        let query = MigrationRunner.executeQuery(for: sql)
        #expect(query.sql.hasPrefix("DO $repro_"))
        #expect(query.sql.contains(sql))
    }

    private static func recorded(_ client: PostgresClient) async throws -> [AppliedMigration] {
        var recorded: [AppliedMigration] = []
        let rows = try await client.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded.append(AppliedMigration(version: version, name: name, checksum: checksum))
        }
        return recorded
    }
}

/// A temporary migrations directory, removed when the value is released.
final class TemporaryMigrationDirectory: Sendable {
    let url: URL

    init(_ files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("reprogrid-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, sql) in files {
            try write(name, sql)
        }
    }

    func write(_ name: String, _ sql: String) throws {
        try Data(sql.utf8).write(to: url.appendingPathComponent(name))
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
