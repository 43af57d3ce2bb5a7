import ReproTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import ReproCoordinator

#if canImport(Glibc)
    import Glibc
#endif

@Suite("EmbeddedPostgres")
struct EmbeddedPostgresTests {
    /// One walk through the life of a data directory, since initdb and start-up cost seconds:
    /// first start, data kept across a clean restart, and recovery after the server was killed.
    @Test(.timeLimit(.minutes(3)))
    func keepsDataAcrossRestartsAndRecoversFromAKilledServer() async throws {
        let base = try TemporaryBaseDirectory()
        let dataDirectory = base.url.appendingPathComponent("data")
        let postgres = EmbeddedPostgres(
            configuration: .init(dataDirectory: dataDirectory, database: "embedded_test"),
            logger: TestDatabase.defaultLogger)

        // First start: initdb, then the application database is created.
        let configuration = try await postgres.start()
        #expect(configuration.unixSocketPath?.hasPrefix(base.url.path + "/data-socket/.s.PGSQL.") == true)
        #expect(configuration.database == "embedded_test")
        #expect(configuration.username == "reprogrid")
        #expect(FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path))
        try await withPostgresClient(configuration) { client in
            try await client.query("CREATE TABLE kept (value text)")
            try await client.query("INSERT INTO kept VALUES ('first start')")
            #expect(try await Self.single(String.self, "SELECT current_database()", client) == "embedded_test")
            #expect(try await Self.single(String.self, "SHOW server_encoding", client) == "UTF8")
        }
        #expect(try await postgres.start().unixSocketPath == configuration.unixSocketPath)  // idempotent
        try await postgres.stop()
        #expect(PostmasterPIDFile.read(in: dataDirectory) == nil)

        // Clean restart, by a new instance as after a coordinator restart: data is kept.
        let restarted = EmbeddedPostgres(
            configuration: .init(dataDirectory: dataDirectory, database: "embedded_test"),
            logger: TestDatabase.defaultLogger)
        let second = try await restarted.start()
        try await withPostgresClient(second) { client in
            #expect(try await Self.single(String.self, "SELECT value FROM kept", client) == "first start")
            try await client.query("INSERT INTO kept VALUES ('second start')")
        }

        // Crash: kill -9 the postmaster, leaving postmaster.pid behind, then start again.
        let pidFile = try #require(PostmasterPIDFile.read(in: dataDirectory))
        #expect(kill(pidFile.pid, SIGKILL) == 0)
        try await Self.waitUntil { !pidFile.belongsToRunningServer(dataDirectory: dataDirectory) }
        #expect(PostmasterPIDFile.read(in: dataDirectory) != nil)

        let recovered = EmbeddedPostgres(
            configuration: .init(dataDirectory: dataDirectory, database: "embedded_test"),
            logger: TestDatabase.defaultLogger)
        let third = try await recovered.start()
        let rowsAfterCrash = try await withPostgresClient(third) { client in
            try await Self.single(Int.self, "SELECT count(*) FROM kept", client)
        }
        #expect(rowsAfterCrash == 2)
        try await recovered.stop()
        try await recovered.stop()  // a second stop is harmless
    }

    @Test func overlappingStartsShareOneServerAndALeftoverServerIsReused() async throws {
        let base = try TemporaryBaseDirectory()
        let settings = EmbeddedPostgres.Configuration(dataDirectory: base.url.appendingPathComponent("data"))
        let first = EmbeddedPostgres(configuration: settings, logger: TestDatabase.defaultLogger)
        // Overlapping starts share one initdb and one server.
        async let started = first.start()
        async let alsoStarted = first.start()
        let (configuration, same) = try await (started, alsoStarted)
        #expect(same.unixSocketPath == configuration.unixSocketPath)
        // A coordinator killed without stopping the server: the next one finds it running.
        let next = EmbeddedPostgres(configuration: settings, logger: TestDatabase.defaultLogger)
        let reused = try await next.start()
        #expect(reused.unixSocketPath == configuration.unixSocketPath)
        let database = try await withPostgresClient(reused) { client in
            try await Self.single(String.self, "SELECT current_database()", client)
        }
        #expect(database == "reprogrid")
        try await next.stop()
    }

    @Test func foreignFilesInTheDataDirectoryAreRefused() async throws {
        let base = try TemporaryBaseDirectory()
        let dataDirectory = base.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: dataDirectory.appendingPathComponent("notes.txt"))
        let postgres = EmbeddedPostgres(dataDirectory: dataDirectory, logger: TestDatabase.defaultLogger)
        let error = try await #require(throws: DatabaseSetupError.self) { try await postgres.start() }
        #expect(error.code == .unusableDataDirectory)
        #expect(error.description.contains("not a PostgreSQL data directory"))
    }

    @Test func wrongBinDirectoryIsReported() async throws {
        let base = try TemporaryBaseDirectory()
        let postgres = EmbeddedPostgres(
            configuration: .init(dataDirectory: base.url.appendingPathComponent("data"), binDirectory: base.url),
            logger: TestDatabase.defaultLogger)
        let error = try await #require(throws: DatabaseSetupError.self) { try await postgres.start() }
        #expect(error.code == .binariesNotFound)
        #expect(error.description.contains(base.url.path))
    }

    @Test func defaultDataDirectoryFollowsXDGAndAvoidsRootsHome() {
        #expect(
            EmbeddedPostgres.defaultDataDirectory(environment: ["HOME": "/home/ada"], runningAsRoot: false).path
                == "/home/ada/.local/share/reprogrid/postgres")
        #expect(
            EmbeddedPostgres.defaultDataDirectory(
                environment: ["HOME": "/home/ada", "XDG_DATA_HOME": "/data/ada"], runningAsRoot: false
            ).path == "/data/ada/reprogrid/postgres")
        #expect(
            EmbeddedPostgres.defaultDataDirectory(environment: ["HOME": "/root"], runningAsRoot: true)
                == EmbeddedPostgres.rootDataDirectory)
        #expect(
            EmbeddedPostgres.defaultDataDirectory(environment: [:], runningAsRoot: true)
                == EmbeddedPostgres.rootDataDirectory)
        // Root with data outside its home (an explicit XDG_DATA_HOME) keeps it.
        #expect(
            EmbeddedPostgres.defaultDataDirectory(
                environment: ["HOME": "/root", "XDG_DATA_HOME": "/srv/data"], runningAsRoot: true
            ).path == "/srv/data/reprogrid/postgres")
    }

    private static func single<Value: PostgresDecodable & Sendable>(
        _ type: Value.Type, _ sql: String, _ client: PostgresClient
    ) async throws -> Value? {
        var value: Value?
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Value.self) {
            value = row
        }
        return value
    }

    private static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 10 seconds")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A directory under /tmp that the unprivileged PostgreSQL user can traverse (mode 0755, unlike
/// mktemp's 0700), with a short path for the socket; removed with everything in it on release.
final class TemporaryBaseDirectory: Sendable {
    let url: URL

    init() throws {
        url = URL(fileURLWithPath: "/tmp/reprogrid-embedded-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    }

    deinit {
        // A test that failed half-way may leave a server running; stop it before removing its files.
        let dataDirectory = url.appendingPathComponent("data")
        if let pidFile = PostmasterPIDFile.read(in: dataDirectory),
            pidFile.belongsToRunningServer(dataDirectory: dataDirectory)
        {
            kill(pidFile.pid, SIGQUIT)
            usleep(500_000)
        }
        try? FileManager.default.removeItem(at: url)
    }
}
