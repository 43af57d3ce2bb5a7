import ArgumentParser
import Logging

/// Options of the benchmarks that run the coordinator as its own process over a fresh database.
struct SpawnedCoordinatorOptions: ParsableArguments {
    @Option(help: "URL of the cluster's maintenance database; a fresh database is created there and dropped after.")
    var maintenanceURL: String

    @Option(help: "The repro-coordinator executable (default .build-release/release/repro-coordinator).")
    var coordinator = ".build-release/release/repro-coordinator"

    @Option(help: "Folder of migration files (default migrations).")
    var migrations = "migrations"

    /// Creates the database, starts the coordinator on it, runs `body`, and stops and drops both,
    /// also when `body` fails.
    func run(
        extra: [String] = [], _ body: (CoordinatorProcess, BenchDatabase, Logger) async throws -> Void
    ) async throws {
        var logger = Logger(label: "repro-bench")
        logger.logLevel = .warning
        let (database, maintenanceRunner) = try await BenchDatabase.open(
            databaseURL: nil, maintenanceURL: maintenanceURL, logger: logger)
        defer { maintenanceRunner.cancel() }
        let process: CoordinatorProcess
        do {
            process = try await CoordinatorProcess.start(
                executable: coordinator, database: database.url, migrations: migrations, extra: extra)
        } catch {
            try? await database.drop()
            throw error
        }
        let outcome: Result<Void, any Error>
        do {
            try await body(process, database, logger)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        process.stop()
        try? await database.drop()
        try outcome.get()
    }
}
