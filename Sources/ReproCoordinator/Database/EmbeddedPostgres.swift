import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private PostgreSQL server that the coordinator starts itself when no `DATABASE_URL` is given.
///
/// ``start()`` finds the server programs, creates the data directory with initdb on first use,
/// starts the server on 127.0.0.1 and a Unix socket beside the data directory, creates the
/// application database, and returns the client configuration (over the socket). ``stop()`` shuts
/// the server down. Data is kept between starts; the server never runs with durability switched off.
///
/// As root (containers, CI), the server programs run as an unprivileged user through `runuser`
/// (see ``Configuration/serverUser``) and the default data directory moves out of `/root`
/// (see ``defaultDataDirectory(environment:runningAsRoot:)``).
///
/// A server left running by a coordinator that was killed is reused; a `postmaster.pid` left by a
/// crash is removed once it is clear that no server of this data directory is alive.
public actor EmbeddedPostgres {
    /// The settings this instance was created with.
    public nonisolated let configuration: Configuration
    /// The data directory in use (the configured one or the default).
    public nonisolated let dataDirectory: URL
    /// The directory holding the server's Unix socket: `<data directory>-socket` beside it.
    public nonisolated let socketDirectory: URL
    /// The server's log file: `<data directory>.log` beside it.
    public nonisolated let logFile: URL

    private let logger: Logger
    private var running: RunningServer?
    private var starting: Task<PostgresClient.Configuration, any Error>?

    private struct RunningServer {
        var binaries: PostgresBinaries
        var user: PostgresServerUser?
        var port: Int
    }

    /// How often a start is retried after a crash while the old server's processes still hold
    /// their shared memory; they notice the postmaster's death and exit within moments.
    private static let startAttempts = 10

    /// Creates the server description; nothing happens until ``start()``.
    ///
    /// - Parameter logger: Receives initdb/start/stop notices (metadata `repro.postgres.*`).
    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        let dataDirectory = (configuration.dataDirectory ?? Self.defaultDataDirectory()).standardizedFileURL
        self.dataDirectory = dataDirectory
        let parent = dataDirectory.deletingLastPathComponent()
        self.socketDirectory = parent.appendingPathComponent(dataDirectory.lastPathComponent + "-socket")
        self.logFile = parent.appendingPathComponent(dataDirectory.lastPathComponent + ".log")
        var logger = logger
        logger[metadataKey: "repro.postgres.data_directory"] = "\(dataDirectory.path)"
        self.logger = logger
    }

    /// Creates the server description with default settings and the given data directory (`nil` for
    /// the default); nothing happens until ``start()``.
    public init(dataDirectory: URL?, logger: Logger) {
        self.init(configuration: Configuration(dataDirectory: dataDirectory), logger: logger)
    }

    /// The URL of the application database while the server runs (Unix socket), else `nil`.
    public var databaseURL: DatabaseURL? {
        running.map {
            DatabaseURL(
                socketDirectory: socketDirectory.path, port: $0.port, username: configuration.username,
                database: configuration.database)
        }
    }

    /// Starts the server (initializing the data directory first if it is new) and returns how to
    /// connect to the application database. Calling it again while running returns the same.
    ///
    /// - Throws: ``DatabaseSetupError`` saying what to fix, with the output of the failing tool.
    public func start() async throws -> PostgresClient.Configuration {
        if let url = databaseURL { return try url.configuration() }
        // The actor is re-entrant across awaits: a second caller waits for the first start instead
        // of running initdb or pg_ctl a second time.
        if let starting { return try await starting.value }
        let task = Task { try await self.startOnce() }
        starting = task
        defer { starting = nil }
        return try await task.value
    }

    private func startOnce() async throws -> PostgresClient.Configuration {
        if configuration.dataDirectory == nil && dataDirectory == Self.rootDataDirectory {
            logger.notice(
                """
                running as root: keeping the embedded database in \(dataDirectory.path), \
                since the PostgreSQL user cannot enter root's home directory
                """)
        }
        let existingVersion = try dataDirectoryVersion()
        let binaries = try await PostgresBinaries.locate(
            override: configuration.binDirectory, majorVersion: existingVersion)
        var user: PostgresServerUser?
        if PostgresServerUser.runningAsRoot {
            user = try await PostgresServerUser.choose(
                configured: configuration.serverUser, dataDirectoryOwner: owner(of: dataDirectory), logger: logger)
        }
        try prepareDirectories(for: user)
        if let user { try await checkAccess(for: user) }
        if existingVersion == nil {
            try await initialize(binaries, as: user)
        }

        let port: Int
        if let reused = try reuseRunningServer() {
            port = reused
        } else {
            port = try await startServer(binaries, as: user)
        }
        running = RunningServer(binaries: binaries, user: user, port: port)
        do {
            try await createDatabaseIfMissing()
        } catch {
            try? await stop()
            throw error
        }
        return try databaseURL!.configuration()
    }

    /// How ``stop(mode:)`` shuts the server down (`pg_ctl stop -m`).
    public enum ShutdownMode: String, Sendable {
        /// Ends open sessions, rolls back their transactions and writes a checkpoint: the normal stop.
        case fast
        /// Kills every server process at once, as a crash would; the next start runs crash recovery.
        /// Fault-injection tests use it to reproduce a database crash under load.
        case immediate
    }

    /// Stops the server (by default a fast shutdown: open sessions are ended) and waits until it is
    /// down. Does nothing if ``start()`` did not succeed.
    public func stop(mode: ShutdownMode = .fast) async throws {
        guard let server = running else { return }
        let result = try await CommandRunner.run(
            server.binaries.pgCtl, ["-D", dataDirectory.path, "-m", mode.rawValue, "-w", "-t", "60", "stop"],
            as: server.user?.name)
        running = nil
        if result.succeeded {
            logger.info("stopped embedded PostgreSQL", metadata: ["repro.postgres.shutdown_mode": "\(mode.rawValue)"])
        } else if PostmasterPIDFile.read(in: dataDirectory) == nil {
            logger.warning(
                "embedded PostgreSQL was already stopped", metadata: ["repro.postgres.output": "\(result.output)"])
        } else {
            throw DatabaseSetupError(
                .commandFailed,
                "stopping PostgreSQL in \(dataDirectory.path) failed (pg_ctl exited \(result.status)):\n"
                    + result.output)
        }
    }

    // MARK: - Data directory

    /// The major version in `PG_VERSION`, or nil for a directory initdb has not filled yet.
    private func dataDirectoryVersion() throws -> Int? {
        let versionFile = dataDirectory.appendingPathComponent("PG_VERSION")
        guard let text = try? String(contentsOf: versionFile, encoding: .utf8) else {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.path)) ?? []
            guard contents.isEmpty else {
                throw DatabaseSetupError(
                    .unusableDataDirectory,
                    "\(dataDirectory.path) is not empty but is not a PostgreSQL data directory (no PG_VERSION): "
                        + "choose another data directory, or empty this one")
            }
            return nil
        }
        guard let version = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw DatabaseSetupError(
                .unusableDataDirectory, "\(versionFile.path) does not hold a PostgreSQL major version")
        }
        return version
    }

    /// Creates missing directories (parents 0755 so the server user can pass through, the data
    /// directory 0700 as PostgreSQL demands) and hands the server's own files to its user.
    private func prepareDirectories(for user: PostgresServerUser?) throws {
        try createDirectory(dataDirectory.deletingLastPathComponent(), mode: 0o755, withParents: true)
        try createDirectory(dataDirectory, mode: 0o700, withParents: false)
        try createDirectory(socketDirectory, mode: 0o755, withParents: false)
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(
                atPath: logFile.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let user else { return }
        if let owner = owner(of: dataDirectory), owner != user.uid,
            !((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.path)) ?? []).isEmpty
        {
            throw DatabaseSetupError(
                .unusableDataDirectory,
                "\(dataDirectory.path) belongs to uid \(owner), but PostgreSQL would run as \(user.name): "
                    + "run `chown -R \(user.name): \(dataDirectory.path)` or configure that owner as the server user")
        }
        for path in [dataDirectory, socketDirectory, logFile] where owner(of: path) != user.uid {
            guard chown(path.path, user.uid, user.gid) == 0 else {
                throw DatabaseSetupError(
                    .unusableDataDirectory,
                    "cannot give \(path.path) to \(user.name): \(String(cString: strerror(errno)))")
            }
        }
        // PostgreSQL refuses a data directory readable by others.
        chmod(dataDirectory.path, 0o700)
    }

    private func createDirectory(_ url: URL, mode: mode_t, withParents: Bool) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DatabaseSetupError(.unusableDataDirectory, "\(url.path) exists but is not a directory")
            }
            return
        }
        if withParents {
            try createDirectory(url.deletingLastPathComponent(), mode: 0o755, withParents: true)
        }
        // mkdir then chmod: the umask would otherwise decide the mode.
        guard mkdir(url.path, mode) == 0 || errno == EEXIST, chmod(url.path, mode) == 0 else {
            throw DatabaseSetupError(
                .unusableDataDirectory,
                "cannot create \(url.path): \(String(cString: strerror(errno))); "
                    + "create it yourself or configure another data directory")
        }
    }

    /// Fails early, naming the directory, when the server user cannot reach its files (the server's
    /// own message would only say "Permission denied").
    private func checkAccess(for user: PostgresServerUser) async throws {
        var ancestors: [String] = []
        var current = dataDirectory.deletingLastPathComponent()
        while current.path != "/" {
            ancestors.insert(current.path, at: 0)
            current = current.deletingLastPathComponent()
        }
        var test: [String] = []
        for path in ancestors { test += ["-x", path, "-a"] }
        test += ["-w", dataDirectory.path, "-a", "-w", socketDirectory.path, "-a", "-w", logFile.path]
        if try await CommandRunner.run("/usr/bin/test", test, as: user.name).succeeded { return }
        for path in ancestors {
            if try await CommandRunner.run("/usr/bin/test", ["-x", path], as: user.name).succeeded { continue }
            throw DatabaseSetupError(
                .unusableDataDirectory,
                "PostgreSQL runs as \(user.name), who cannot enter \(path) on the way to \(dataDirectory.path): "
                    + "run `chmod o+x \(path)` or configure a data directory outside it (e.g. under /var/lib)")
        }
        throw DatabaseSetupError(
            .unusableDataDirectory,
            "PostgreSQL runs as \(user.name), who cannot write \(dataDirectory.path), \(socketDirectory.path) "
                + "or \(logFile.path): run `chown -R \(user.name): ` on them")
    }

    private func owner(of url: URL) -> uid_t? {
        var info = stat()
        return stat(url.path, &info) == 0 ? info.st_uid : nil
    }

    private func initialize(_ binaries: PostgresBinaries, as user: PostgresServerUser?) async throws {
        logger.notice(
            "initializing a new PostgreSQL \(binaries.majorVersion) data directory",
            metadata: ["repro.postgres.bin_directory": "\(binaries.directory.path)"])
        // C.UTF-8 exists everywhere (other locales may not be installed), and an explicit encoding
        // avoids SQL_ASCII when the environment names no locale.
        try await CommandRunner.check(
            binaries.initdb,
            [
                "-D", dataDirectory.path, "--locale=C.UTF-8", "--encoding=UTF8", "--auth=trust", "-U",
                configuration.username,
            ],
            as: user?.name, doing: "initializing the PostgreSQL data directory \(dataDirectory.path)")
    }

    // MARK: - Server process

    /// The port of a server already running on this data directory (left by a coordinator that was
    /// killed), after removing a `postmaster.pid` that no live server owns.
    private func reuseRunningServer() throws -> Int? {
        guard let pidFile = PostmasterPIDFile.read(in: dataDirectory) else { return nil }
        if pidFile.belongsToRunningServer(dataDirectory: dataDirectory), let port = pidFile.port,
            pidFile.socketDirectory == socketDirectory.path
        {
            logger.notice(
                "embedded PostgreSQL is already running (pid \(pidFile.pid), port \(port)); using it",
                metadata: ["repro.postgres.port": "\(port)"])
            return port
        }
        if pidFile.belongsToRunningServer(dataDirectory: dataDirectory) {
            throw DatabaseSetupError(
                .startFailed,
                "PostgreSQL (pid \(pidFile.pid)) is already running on \(dataDirectory.path) with other settings: "
                    + "stop it (pg_ctl -D \(dataDirectory.path) stop) and start the coordinator again")
        }
        logger.warning(
            """
            removing stale postmaster.pid (pid \(pidFile.pid) is not a running PostgreSQL: \
            the server was killed or the machine restarted)
            """)
        do {
            try FileManager.default.removeItem(at: PostmasterPIDFile.url(in: dataDirectory))
        } catch {
            throw DatabaseSetupError(
                .unusableDataDirectory, "cannot remove stale \(dataDirectory.path)/postmaster.pid: \(error)")
        }
        return nil
    }

    /// Starts the server with `pg_ctl -w` and returns its port; retries on a port taken in the
    /// meantime and on shared memory still held by a killed server's last processes.
    private func startServer(_ binaries: PostgresBinaries, as user: PostgresServerUser?) async throws -> Int {
        var lastFailure = ""
        for attempt in 1...Self.startAttempts {
            let port: Int
            if let configured = configuration.port {
                port = configured
            } else {
                port = try await Self.freePort()
            }
            let socketPath = socketDirectory.appendingPathComponent(".s.PGSQL.\(port)").path
            guard socketPath.utf8.count < 108 else {
                throw DatabaseSetupError(
                    .unusableDataDirectory,
                    "the socket path \(socketPath) is longer than the system allows (107 bytes): "
                        + "configure a data directory with a shorter path")
            }
            let logOffset = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
            // pg_ctl hands -o to a shell, hence the quotes around the socket directory.
            let options = "-p \(port) -k '\(socketDirectory.path)' -c listen_addresses=127.0.0.1"
            let result = try await CommandRunner.run(
                binaries.pgCtl,
                ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-o", options, "start"],
                as: user?.name)
            if result.succeeded {
                logger.info(
                    "started embedded PostgreSQL \(binaries.majorVersion)",
                    metadata: ["repro.postgres.port": "\(port)", "repro.postgres.socket": "\(socketPath)"])
                return port
            }
            let serverLog = readLog(from: logOffset)
            lastFailure = result.output + (serverLog.isEmpty ? "" : "\nserver log (\(logFile.path)):\n" + serverLog)
            let portTaken = serverLog.contains("could not bind") || serverLog.contains("Address already in use")
            let oldServerExiting =
                serverLog.contains("shared memory block is still in use")
                || serverLog.contains("lock file") && serverLog.contains("already exists")
            let retry = (portTaken && configuration.port == nil) || oldServerExiting
            guard retry, attempt < Self.startAttempts else { break }
            logger.debug("retrying PostgreSQL start", metadata: ["repro.postgres.attempt": "\(attempt)"])
            try await Task.sleep(for: .seconds(1))
        }
        throw DatabaseSetupError(
            .startFailed,
            "PostgreSQL did not start in \(dataDirectory.path); see \(logFile.path). pg_ctl said:\n\(lastFailure)")
    }

    private func readLog(from offset: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: logFile.path) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(offset))
        let data = (try? handle.readToEnd()) ?? Data()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(40)
        return lines.joined(separator: "\n")
    }

    /// A port that was free a moment ago on 127.0.0.1, chosen by the kernel.
    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        guard let port else {
            throw DatabaseSetupError(.startFailed, "cannot find a free TCP port on 127.0.0.1")
        }
        return port
    }

    // MARK: - Application database

    private func createDatabaseIfMissing() async throws {
        guard let server = running, let socketPath = databaseURL?.unixSocketPath else { return }
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                unixSocketPath: socketPath, username: configuration.username, password: nil, database: "postgres"),
            id: 1, logger: logger)
        do {
            let rows = try await connection.query(
                "SELECT count(*) FROM pg_database WHERE datname = \(configuration.database)", logger: logger)
            var count = 0
            for try await found in rows.decode(Int.self) { count = found }
            if count == 0 {
                let name = "\"" + configuration.database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
                logger.notice(
                    "created database \(configuration.database)", metadata: ["repro.postgres.port": "\(server.port)"])
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
            // duplicate_database: another coordinator created it between our check and CREATE.
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
