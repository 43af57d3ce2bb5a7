import Foundation
import Logging
import PostgresNIO
import Synchronization
import ReproCoordinator

/// A fresh, uniquely named database on the throwaway cluster that `scripts/test.sh` starts, with a
/// running client. Each test (or suite) gets its own, so tests can run in parallel without sharing
/// tables.
///
/// ```swift
/// @Test func storesAccounts() async throws {
///     try await withTestDatabase { db in
///         try await MigrationRunner(directory: migrations, logger: db.logger).apply(using: db.client)
///         try await db.client.query("INSERT INTO …")
///     }
/// }
/// ```
///
/// The cluster comes from `REPRO_TEST_DATABASE_URL` (its maintenance database). Without it the tests
/// fail with a message saying to run `scripts/test.sh`, rather than starting a cluster themselves:
/// as root that needs an unprivileged user, directory permissions and clean-up after the whole test
/// process, which the script does once for every test target, and CI runs the same script.
public struct TestDatabase: Sendable {
    /// The environment variable naming the test cluster's maintenance database.
    public static let environmentVariable = "REPRO_TEST_DATABASE_URL"

    /// The database's name, `test_` and 16 random hex digits.
    public let name: String
    /// The database's URL (password included), e.g. for a second client or a child process.
    public let url: String
    /// A running client on the database; closed by ``drop()``.
    public let client: PostgresClient
    /// The logger given to ``create(logger:)``, handy for code under test.
    public let logger: Logger

    private let maintenance: DatabaseURL
    private let running: RunningClient

    /// A logger for tests: warnings and errors only, so test output stays readable.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "repro.test")
        logger.logLevel = .warning
        return logger
    }

    /// Creates a new empty database and starts a client on it.
    ///
    /// - Throws: ``TestDatabaseError`` if `REPRO_TEST_DATABASE_URL` is missing or invalid.
    public static func create(logger: Logger = defaultLogger) async throws -> TestDatabase {
        let maintenance = try maintenanceURL()
        let name = "test_" + String(format: "%016llx", UInt64.random(in: .min ... .max))
        try await withPostgresClient(try maintenance.configuration(), logger: logger) { admin in
            try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var url = maintenance
        url.database = name
        var configuration = try url.configuration()
        // Many suites run in parallel against one cluster; a few connections each is plenty.
        configuration.options.maximumConnections = 8
        let running = RunningClient(configuration, logger: logger)
        return TestDatabase(
            name: name, url: url.urlString, client: running.client, logger: logger, maintenance: maintenance,
            running: running)
    }

    /// Stops the client and drops the database, ending any session still connected to it.
    public func drop() async throws {
        await running.stop(what: "the client of test database \(name)")
        try await withPostgresClient(try maintenance.configuration(), logger: logger) { admin in
            try await admin.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    private static func maintenanceURL() throws -> DatabaseURL {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable], !text.isEmpty else {
            throw TestDatabaseError(
                "\(environmentVariable) is not set: run the tests with scripts/test.sh, which starts a throwaway "
                    + "PostgreSQL cluster and sets it (pass swift test options through, e.g. "
                    + "scripts/test.sh --filter MigrationRunnerTests)")
        }
        do {
            return try DatabaseURL(text)
        } catch {
            throw TestDatabaseError("\(environmentVariable) is not a usable database URL: \(error)")
        }
    }
}

/// Why no test database could be made.
public struct TestDatabaseError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs `body` with a fresh ``TestDatabase`` and drops it afterwards, also when `body` throws.
@discardableResult
public func withTestDatabase<Result: Sendable>(
    logger: Logger = TestDatabase.defaultLogger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestDatabase) async throws -> Result
) async throws -> Result {
    let database = try await TestDatabase.create(logger: logger)
    let result: Result
    do {
        result = try await body(database)
    } catch {
        try? await database.drop()
        throw error
    }
    try await database.drop()
    return result
}

/// Runs `body` with a client that is running for exactly that long.
@discardableResult
public func withPostgresClient<Result: Sendable>(
    _ configuration: PostgresClient.Configuration,
    logger: Logger = TestDatabase.defaultLogger,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    let running = RunningClient(configuration, logger: logger)
    let result: Result
    do {
        result = try await body(running.client)
    } catch {
        await running.stop(what: "a maintenance client")
        throw error
    }
    await running.stop(what: "a maintenance client")
    return result
}

/// A `PostgresClient` whose `run()` goes in a task of its own, stopped with a bounded wait.
///
/// Bounded because a cancelled `run()` was seen not to return in a loaded full run (the signed-task
/// test, every process and session already gone), holding the suite until its time limit. Such a
/// client is reported (`CLIENT-HANG:`) and left behind; a forced `DROP DATABASE` ends what it holds.
struct RunningClient: Sendable {
    let client: PostgresClient
    private let task: Task<Void, Never>
    private let stopped = StopFlag()

    /// How long ``stop(what:)`` waits.
    static let stopBound: Duration = .seconds(30)

    init(_ configuration: PostgresClient.Configuration, logger: Logger) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger(logger))
        let stopped = self.stopped
        self.client = client
        task = Task {
            await client.run()
            stopped.set()
        }
    }

    func stop(what: String) async {
        task.cancel()
        let deadline = ContinuousClock.now + Self.stopBound
        while !stopped.isSet, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !stopped.isSet {
            FileHandle.standardError.write(
                Data("CLIENT-HANG: \(what) did not stop within \(Self.stopBound); left behind\n".utf8))
        }
    }
}

/// The client's own logger, one level quieter than the test's: PostgresNIO warns when a query is
/// queued before `run()` got going, which is harmless here (the query waits) and unavoidable when the
/// client is started in a task and used at once. Real failures still surface as thrown errors.
private func backgroundLogger(_ logger: Logger) -> Logger {
    var quieter = logger
    if quieter.logLevel < .error { quieter.logLevel = .error }
    return quieter
}

/// Set once, read from any task.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
