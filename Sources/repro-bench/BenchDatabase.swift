import Foundation
import Logging
import PostgresNIO
import ReproCoordinator

/// The database a lease benchmark runs in, and a connection to the cluster's maintenance database from
/// which its commit counter is read. The counter is read from another database on purpose: the readings
/// themselves must not count as commits of the database under test.
struct BenchDatabase: Sendable {
    /// URL of the database under test.
    let url: DatabaseURL
    /// Whether this program created the database (and so drops it at the end).
    let created: Bool
    private let maintenance: PostgresClient
    private let logger: Logger

    /// Uses `databaseURL` as is, or creates a fresh database on the cluster of `maintenanceURL`.
    static func open(databaseURL: String?, maintenanceURL: String?, logger: Logger) async throws -> (BenchDatabase, Task<Void, Never>) {
        var maintenanceTarget: DatabaseURL
        if let maintenanceURL {
            maintenanceTarget = try DatabaseURL(maintenanceURL)
        } else if let databaseURL {
            maintenanceTarget = try DatabaseURL(databaseURL)
            maintenanceTarget.database = "postgres"
        } else {
            throw BenchError("pass --database-url (a fresh database) or --maintenance-url (a cluster to create one on)")
        }
        let client = PostgresClient(configuration: try maintenanceTarget.configuration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        var target: DatabaseURL
        var created = false
        if let databaseURL {
            target = try DatabaseURL(databaseURL)
        } else {
            target = maintenanceTarget
            let name = "repro_bench_" + UUID().uuidString.prefix(8).lowercased()
            // CREATE DATABASE takes no bind parameters; the name is generated above, never user input.
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            target.database = name
            created = true
        }
        return (BenchDatabase(url: target, created: created, maintenance: client, logger: logger), runner)
    }

    /// Committed transactions of the database under test so far, as the statistics system knows them.
    ///
    /// Backends report their counters at most once a second (PostgreSQL 15+ flushes idle backends'
    /// pending statistics after ~1 s), so callers let the coordinator idle before reading.
    func committedTransactions() async throws -> Int64 {
        let name = url.database ?? ""
        let rows = try await maintenance.query(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = \(name)", logger: logger)
        for try await commits in rows.decode(Int64.self) { return commits }
        throw BenchError("database \(name) is missing from pg_stat_database")
    }

    /// Drops the database when this program created it (FORCE: the coordinator's pool may not have let go yet).
    func drop() async throws {
        guard created, let name = url.database else { return }
        try await maintenance.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
    }
}

/// A benchmark could not run; the message says why and what to do.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
