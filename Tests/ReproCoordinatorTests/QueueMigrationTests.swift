import Foundation
import PostgresNIO
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// Migration 0004 on a database that already holds tasks: replicated seed groups get their size, so
/// the lease keeps probing them for distinct workers after the upgrade.
@Suite("Migration 0004: queue hot path")
struct QueueMigrationTests {
    @Test("group_size is backfilled for existing replicated seed groups")
    func groupSizeBackfill() async throws {
        try await withTestDatabase { db in
            let real = CoordinatorHarness.migrationsDirectory
            var before: [String: String] = [:]
            for file in try MigrationFile.load(from: real) where file.version < 4 {
                before[file.fileName] = try String(contentsOf: real.appendingPathComponent(file.fileName), encoding: .utf8)
            }
            let earlier = try TemporaryMigrationDirectory(before)
            _ = try await MigrationRunner(directory: earlier.url, logger: db.logger).apply(using: db.client)
            try await db.client.query(
                """
                WITH a AS (INSERT INTO accounts (name, roles) VALUES ('r', '{researcher}') RETURNING id),
                p AS (INSERT INTO preprints (id, title) VALUES ('2401.01234', 't') RETURNING id),
                s AS (INSERT INTO studies (preprint_id, owner_account_id, spec, spec_sha256, job, task_count, open_tasks)
                      SELECT p.id, a.id, '{}', 'x', '{}', 4, 4 FROM a, p RETURNING id)
                INSERT INTO tasks (study_id, seed_group, dataset, seed, replica, arguments, max_attempts)
                SELECT s.id, g, 'digits', g, r, '[]', 3
                FROM s, (VALUES (1, 0), (1, 1), (1, 2), (2, 0)) AS v(g, r)
                """)

            let applied = try await MigrationRunner(directory: real, logger: db.logger).apply(using: db.client)
            #expect(applied.first?.version == 4)
            let rows = try await db.client.query("SELECT seed_group, group_size FROM tasks ORDER BY seed_group, replica")
            var sizes: [(Int, Int)] = []
            for try await row in rows.decode((Int, Int).self) { sizes.append(row) }
            #expect(sizes.map(\.1) == [3, 3, 3, 1])
        }
    }
}
