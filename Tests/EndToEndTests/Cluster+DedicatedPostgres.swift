import Foundation
import Logging
import ReproCoordinator
import Testing

extension Cluster {
    /// Runs `body` with real processes over a PostgreSQL cluster of its own on a fixed port: tests
    /// that stop, crash or restart PostgreSQL must not disturb other suites, and the coordinators
    /// must find it again at the same address. A failure is recorded with every process's log;
    /// processes, cluster and files are removed afterwards either way.
    static func withDedicatedPostgres(
        _ name: String, _ body: (Cluster, EmbeddedPostgres, URL) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = .warning
        let root = try Paths.temporaryDirectory("reprogrid-\(name)")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
        let postgres = EmbeddedPostgres(
            configuration: .init(dataDirectory: root.appendingPathComponent("pg"), port: Paths.freePort()),
            logger: logger)
        _ = try await postgres.start()
        let url = try #require(await postgres.databaseURL).urlString
        let cluster = try Cluster(databaseURL: url)
        do {
            try await body(cluster, postgres, root)
        } catch {
            Issue.record("\(name) run failed: \(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        try? await postgres.stop()
        try? FileManager.default.removeItem(at: root)
    }
}
