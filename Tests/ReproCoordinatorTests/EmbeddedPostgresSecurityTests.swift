import Foundation
import Logging
import PostgresNIO
import ReproTestSupport
import Synchronization
import Testing

@testable import ReproCoordinator

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded cluster admits nobody without its password, listens on no TCP port unless asked, and
/// converts clusters of earlier versions (trust, TCP): checked with real server processes, real
/// clients, and `psql` run as other local users.
@Suite("EmbeddedPostgres security")
struct EmbeddedPostgresSecurityTests {
    @Test(.timeLimit(.minutes(3)))
    func newClusterAdmitsOnlyThePasswordOverAPrivateSocket() async throws {
        let base = try TemporaryBaseDirectory()
        let postgres = EmbeddedPostgres(
            configuration: .init(dataDirectory: base.url.appendingPathComponent("data")),
            logger: TestDatabase.defaultLogger)
        let configuration = try await postgres.start()

        // The password the coordinator connects with is the one in the 0600 file.
        let password = try #require(configuration.password)
        #expect(password.count == 64)
        let fileText = try String(contentsOf: postgres.passwordFile, encoding: .utf8)
        #expect(fileText.trimmingCharacters(in: .whitespacesAndNewlines) == password)
        let serverUID = try #require(Self.owner(of: postgres.dataDirectory))
        #expect(Self.mode(of: postgres.passwordFile) == 0o600)
        #expect(Self.owner(of: postgres.passwordFile) == serverUID)
        // The socket's directory belongs to the server's user and nobody else may enter it.
        #expect(Self.mode(of: postgres.socketDirectory) == 0o700)
        #expect(Self.owner(of: postgres.socketDirectory) == serverUID)
        #expect(configuration.unixSocketPath == postgres.socketDirectory.path + "/.s.PGSQL.5432")

        let hba = try String(contentsOf: postgres.dataDirectory.appendingPathComponent("pg_hba.conf"), encoding: .utf8)
        #expect(!hba.contains("trust"))
        #expect(hba.contains("local   all       all                 scram-sha-256"))

        // No TCP: neither configured nor bound.
        let pidFile = try #require(PostmasterPIDFile.read(in: postgres.dataDirectory))
        #expect(pidFile.listenAddress == nil)
        #expect(Self.listeningTCPPorts(of: pidFile.pid).isEmpty)
        let (listen, encryption) = try await withPostgresClient(configuration) { client in
            (
                try await Self.single(String.self, "SHOW listen_addresses", client),
                try await Self.single(String.self, "SHOW password_encryption", client)
            )
        }
        #expect(listen == "")
        #expect(encryption == "scram-sha-256")

        // Without the password, or with a wrong one, the server refuses.
        try await Self.expectRefused(configuration, password: nil)
        try await Self.expectRefused(configuration, password: "wrong")

        if geteuid() == 0 {
            let psql = try Self.psql()
            let socket = postgres.socketDirectory.path
            // Another local user (what a training job runs as) cannot even reach the socket.
            let nobody = try await CommandRunner.run(
                psql, ["-X", "-w", "-h", socket, "-U", "reprogrid", "-d", "reprogrid", "-c", "SELECT 1"], as: "nobody")
            #expect(!nobody.succeeded)
            #expect(nobody.output.contains("Permission denied"), "\(nobody.output)")
            // The server's own user reaches it, and still needs the password (no trust, no peer).
            let serverUser = try #require(PostgresServerUser.lookup(uid: serverUID))
            let own = try await CommandRunner.run(
                psql, ["-X", "-w", "-h", socket, "-U", "reprogrid", "-d", "reprogrid", "-c", "SELECT 1"],
                as: serverUser.name)
            #expect(!own.succeeded)
            #expect(own.output.contains("no password supplied"), "\(own.output)")
        }
        try await postgres.stop()
    }

    @Test(.timeLimit(.minutes(3)))
    func tcpIsOnlyOpenedWhenAPortIsGivenAndAlsoNeedsThePassword() async throws {
        let base = try TemporaryBaseDirectory()
        let port = try Self.freeTCPPort()
        let postgres = EmbeddedPostgres(
            configuration: .init(dataDirectory: base.url.appendingPathComponent("data"), port: port),
            logger: TestDatabase.defaultLogger)
        let configuration = try await postgres.start()
        let password = try #require(configuration.password)
        #expect(configuration.unixSocketPath == postgres.socketDirectory.path + "/.s.PGSQL.\(port)")

        let pidFile = try #require(PostmasterPIDFile.read(in: postgres.dataDirectory))
        #expect(pidFile.listenAddress == "127.0.0.1")
        #expect(Self.listeningTCPPorts(of: pidFile.pid) == [port])

        var tcp = PostgresClient.Configuration(
            host: "127.0.0.1", port: port, username: "reprogrid", password: password, database: "reprogrid",
            tls: .disable)
        tcp.options.maximumConnections = 2
        let listen = try await withPostgresClient(tcp) { client in
            try await Self.single(String.self, "SHOW listen_addresses", client)
        }
        #expect(listen == "127.0.0.1")
        try await Self.expectRefused(tcp, password: nil)
        try await Self.expectRefused(tcp, password: "wrong")
        if geteuid() == 0 {
            let probe = try await CommandRunner.run(
                try Self.psql(),
                [
                    "-X", "-w", "-h", "127.0.0.1", "-p", "\(port)", "-U", "reprogrid", "-d", "reprogrid", "-c",
                    "SELECT 1",
                ],
                as: "nobody")
            #expect(!probe.succeeded)
            #expect(probe.output.contains("no password supplied"), "\(probe.output)")
        }
        try await postgres.stop()
    }

    /// A cluster as earlier versions made it: initdb with trust, served on 127.0.0.1 and a 0755 socket
    /// directory, left running by a killed coordinator or stopped.
    @Test(.timeLimit(.minutes(3)), arguments: [true, false])
    func trustClusterOfAnEarlierVersionIsConverted(leftRunning: Bool) async throws {
        let base = try TemporaryBaseDirectory()
        let data = base.url.appendingPathComponent("data")
        let socket = base.url.appendingPathComponent("data-socket")
        let binaries = try await PostgresBinaries.locate(override: nil, majorVersion: nil)
        var user: PostgresServerUser?
        if geteuid() == 0 {
            user = try await PostgresServerUser.choose(
                configured: nil, dataDirectoryOwner: nil, logger: TestDatabase.defaultLogger)
        }
        let log = base.url.appendingPathComponent("data.log")
        for (url, mode) in [(data, 0o700), (socket, 0o755)] {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
            chmod(url.path, mode_t(mode))
        }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        if let user {
            for url in [data, socket, log] { chown(url.path, user.uid, user.gid) }
        }
        try await CommandRunner.check(
            binaries.initdb,
            ["-D", data.path, "--locale=C.UTF-8", "--encoding=UTF8", "--auth=trust", "-U", "reprogrid", "--no-sync"],
            as: user?.name, doing: "initdb of the old-style cluster")
        let oldPort = try Self.freeTCPPort()
        try await CommandRunner.check(
            binaries.pgCtl,
            [
                "-D", data.path, "-l", log.path, "-w", "-o",
                "-p \(oldPort) -k '\(socket.path)' -c listen_addresses=127.0.0.1", "start",
            ], as: user?.name, doing: "starting the old-style cluster")
        // Trust: anyone on the machine connects over TCP as superuser without a password.
        let trusting = PostgresClient.Configuration(
            host: "127.0.0.1", port: oldPort, username: "reprogrid", password: nil, database: "postgres", tls: .disable)
        try await withPostgresClient(trusting) { client in
            try await client.query("CREATE DATABASE reprogrid")
        }
        var trustingApp = trusting
        trustingApp.database = "reprogrid"
        try await withPostgresClient(trustingApp) { client in
            try await client.query("CREATE TABLE kept (value text)")
            try await client.query("INSERT INTO kept VALUES ('before the upgrade')")
        }
        if !leftRunning {
            try await CommandRunner.check(
                binaries.pgCtl, ["-D", data.path, "-m", "fast", "-w", "stop"], as: user?.name, doing: "stopping")
        }

        let messages = LogCollector()
        let postgres = EmbeddedPostgres(configuration: .init(dataDirectory: data), logger: messages.logger)
        let configuration = try await postgres.start()
        #expect(
            messages.all.contains { $0.contains("converted the embedded PostgreSQL cluster") },
            "\(messages.all)")
        let kept = try await withPostgresClient(configuration) { client in
            try await Self.single(String.self, "SELECT value FROM kept", client)
        }
        #expect(kept == "before the upgrade")
        let hba = try String(contentsOf: data.appendingPathComponent("pg_hba.conf"), encoding: .utf8)
        #expect(!hba.contains("trust"))
        #expect(Self.mode(of: socket) == 0o700)
        #expect(Self.mode(of: postgres.passwordFile) == 0o600)
        try await Self.expectRefused(configuration, password: nil)
        // The old TCP port is closed, and nothing else listens.
        let pidFile = try #require(PostmasterPIDFile.read(in: data))
        #expect(pidFile.listenAddress == nil)
        #expect(Self.listeningTCPPorts(of: pidFile.pid).isEmpty)
        await #expect(throws: (any Error).self) {
            try await PostgresConnection.connect(
                configuration: .init(
                    host: "127.0.0.1", port: oldPort, username: "reprogrid", password: nil, database: "postgres",
                    tls: .disable),
                id: 1, logger: TestDatabase.defaultLogger
            ).close()
        }
        try await postgres.stop()

        // Converted once: the next start uses the password and says nothing about converting.
        let later = LogCollector()
        let restarted = EmbeddedPostgres(configuration: .init(dataDirectory: data), logger: later.logger)
        let again = try await restarted.start()
        #expect(again.password == configuration.password)
        #expect(!later.all.contains { $0.contains("converted") })
        try await restarted.stop()
    }

    /// Removing the password file is how an operator resets the password: the next start sets a new
    /// one, and the old one stops working.
    @Test(.timeLimit(.minutes(3)))
    func removedPasswordFileGetsANewPassword() async throws {
        let base = try TemporaryBaseDirectory()
        let settings = EmbeddedPostgres.Configuration(dataDirectory: base.url.appendingPathComponent("data"))
        let first = EmbeddedPostgres(configuration: settings, logger: TestDatabase.defaultLogger)
        let before = try await first.start()
        try await first.stop()
        try FileManager.default.removeItem(at: first.passwordFile)

        let second = EmbeddedPostgres(configuration: settings, logger: TestDatabase.defaultLogger)
        let after = try await second.start()
        #expect(after.password != nil && after.password != before.password)
        let one = try await withPostgresClient(after) { client in
            try await Self.single(Int.self, "SELECT 1", client)
        }
        #expect(one == 1)
        try await Self.expectRefused(after, password: before.password)
        try await second.stop()
    }

    // MARK: - Helpers

    /// Expects the server to refuse a connection with `password` for want of the right password.
    static func expectRefused(
        _ configuration: PostgresClient.Configuration, password: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var connection: PostgresConnection.Configuration
        if let socket = configuration.unixSocketPath {
            connection = .init(
                unixSocketPath: socket, username: configuration.username, password: password,
                database: configuration.database)
        } else {
            connection = .init(
                host: try #require(configuration.host), port: try #require(configuration.port),
                username: configuration.username, password: password, database: configuration.database, tls: .disable)
        }
        connection.options.connectTimeout = .seconds(10)
        do {
            let opened = try await PostgresConnection.connect(
                configuration: connection, id: 1, logger: TestDatabase.defaultLogger)
            try? await opened.close()
            Issue.record("connected with password \(password ?? "nil")", sourceLocation: sourceLocation)
        } catch let error as PSQLError {
            #expect(
                EmbeddedPostgres.isAuthenticationFailure(error),
                "refused for another reason: \(String(reflecting: error))",
                sourceLocation: sourceLocation)
        }
    }

    /// TCP ports on which process `pid` holds a listening socket, from /proc/net/tcp and tcp6 (state
    /// 0A), matched by the sockets' inodes among its descriptors.
    static func listeningTCPPorts(of pid: pid_t) -> Set<Int> {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        let inodes = Set(
            descriptors.compactMap { fd -> String? in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    target.hasPrefix("socket:[")
                else { return nil }
                return String(target.dropFirst(8).dropLast())
            })
        var ports: Set<Int> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])),
                    let portHex = fields[1].split(separator: ":").last, let port = Int(portHex, radix: 16)
                else { continue }
                ports.insert(port)
            }
        }
        return ports
    }

    static func freeTCPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func psql() throws -> String {
        let binaries =
            ["/usr/bin/psql"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))
            ?? []).map { "/usr/lib/postgresql/\($0)/bin/psql" }
        return try #require(binaries.first { FileManager.default.isExecutableFile(atPath: $0) }, "psql not installed")
    }

    static func mode(of url: URL) -> mode_t? {
        var info = stat()
        return stat(url.path, &info) == 0 ? info.st_mode & 0o777 : nil
    }

    static func owner(of url: URL) -> uid_t? {
        var info = stat()
        return stat(url.path, &info) == 0 ? info.st_uid : nil
    }

    static func single<Value: PostgresDecodable & Sendable>(
        _ type: Value.Type, _ sql: String, _ client: PostgresClient
    ) async throws -> Value? {
        var value: Value?
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Value.self) {
            value = row
        }
        return value
    }
}

/// Keeps every message logged through ``logger``, so a test can check what start-up said.
final class LogCollector: Sendable {
    private let messages = Mutex<[String]>([])

    var all: [String] { messages.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test.collector") { _ in Handler(collector: self) }
    }

    fileprivate func append(_ message: String) { messages.withLock { $0.append(message) } }

    private struct Handler: LogHandler {
        let collector: LogCollector
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            collector.append("\(event.level): \(event.message)")
        }
    }
}
