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
/// starts the server on a Unix socket in a 0700 directory beside the data directory, creates the
/// application database, and returns the client configuration (over the socket). ``stop()`` shuts
/// the server down. Data is kept between starts; the server never runs with durability switched off.
///
/// Nothing reaches the server without its password (see `EmbeddedPostgres+Authentication.swift`):
/// every `pg_hba.conf` line is `scram-sha-256`, the password is random and kept in ``passwordFile``
/// (0600), and there is no TCP listener unless ``Configuration/port`` is set. A cluster that has no
/// password file yet (made by an earlier version with `trust` and TCP, or new) gets one at start.
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
    /// The superuser's password, which the coordinator reads to connect: `reprogrid.password` in the
    /// data directory, mode 0600, owned by the server's user.
    public nonisolated let passwordFile: URL

    let logger: Logger
    private var running: RunningServer?
    private var starting: Task<PostgresClient.Configuration, any Error>?

    private struct RunningServer {
        var binaries: PostgresBinaries
        var user: PostgresServerUser?
        var port: Int
        var password: String
    }

    /// How often a start is retried after a crash while the old server's processes still hold
    /// their shared memory; they notice the postmaster's death and exit within moments.
    static let startAttempts = 10

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
        self.passwordFile = dataDirectory.appendingPathComponent("reprogrid.password")
        var logger = logger
        logger[metadataKey: "repro.postgres.data_directory"] = "\(dataDirectory.path)"
        self.logger = logger
    }

    /// Creates the server description with default settings, the given data directory (`nil` for
    /// the default) and TCP port (`nil` for none); nothing happens until ``start()``.
    public init(dataDirectory: URL?, port: Int? = nil, logger: Logger) {
        self.init(configuration: Configuration(dataDirectory: dataDirectory, port: port), logger: logger)
    }

    /// The URL of the application database while the server runs (Unix socket), else `nil`.
    public var databaseURL: DatabaseURL? {
        running.map {
            DatabaseURL(
                socketDirectory: socketDirectory.path, port: $0.port, username: configuration.username,
                password: $0.password, database: configuration.database)
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

        var password = try readPassword()
        let port: Int
        if let reused = try await reuseRunningServer(binaries, as: user, secured: password != nil) {
            port = reused
        } else {
            if password == nil {
                // No password yet: the server starts with a file that admits the socket only, and
                // `setPassword` replaces it before anything else connects.
                try PrivateFile.write(PostgresHBAFile.passwordSetup, to: hbaFile, owner: user)
            } else {
                try writeManagedHBA(owner: user)
            }
            port = try await startServer(binaries, as: user)
        }
        do {
            if let known = password {
                // A server found running may have read an edited pg_hba.conf; ours is written and
                // reloaded if it differs.
                if try writeManagedHBA(owner: user) { try await reloadConfiguration(port: port, password: known) }
            } else {
                password = try await setPassword(port: port, owner: user)
                if existingVersion == nil {
                    logger.info(
                        "set a random password for the new embedded PostgreSQL cluster",
                        metadata: ["repro.postgres.password_file": "\(passwordFile.path)"])
                } else {
                    // A cluster of an earlier version (trust, TCP), or one whose password file was removed.
                    logger.notice(
                        """
                        converted the embedded PostgreSQL cluster, which had no password file, to password \
                        authentication: pg_hba.conf rewritten (scram-sha-256 only, no trust), a new random \
                        password set and kept in \(passwordFile.path), \
                        \(configuration.port.map { "TCP on 127.0.0.1:\($0)" } ?? "TCP closed")
                        """,
                        metadata: ["repro.postgres.password_file": "\(passwordFile.path)"])
                }
            }
            try await expectPasswordRequired(port: port)
            running = RunningServer(binaries: binaries, user: user, port: port, password: password!)
            try await createDatabaseIfMissing()
        } catch {
            // Never leave a server behind that may still admit connections without a password.
            try? await stopServer(binaries, as: user)
            running = nil
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
        running = nil
        try await stopServer(server.binaries, as: server.user, mode: mode)
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
    /// directory 0700 as PostgreSQL demands, the socket directory 0700 so that no other user can
    /// even reach the socket) and hands the server's own files to its user.
    private func prepareDirectories(for user: PostgresServerUser?) throws {
        try createDirectory(dataDirectory.deletingLastPathComponent(), mode: 0o755, withParents: true)
        try createDirectory(dataDirectory, mode: 0o700, withParents: false)
        try createDirectory(socketDirectory, mode: 0o700, withParents: false)
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(
                atPath: logFile.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        // Earlier versions made the socket directory 0755; mkdir leaves an existing one as it is. The
        // log is private too: a failed statement is logged with its text.
        chmod(socketDirectory.path, 0o700)
        chmod(logFile.path, 0o600)
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

    func owner(of url: URL) -> uid_t? {
        var info = stat()
        return stat(url.path, &info) == 0 ? info.st_uid : nil
    }

    private func initialize(_ binaries: PostgresBinaries, as user: PostgresServerUser?) async throws {
        logger.notice(
            "initializing a new PostgreSQL \(binaries.majorVersion) data directory",
            metadata: ["repro.postgres.bin_directory": "\(binaries.directory.path)"])
        // C.UTF-8 exists everywhere (other locales may not be installed), and an explicit encoding
        // avoids SQL_ASCII when the environment names no locale. `trust` only until the first start:
        // pg_hba.conf is replaced before the server ever runs (see startOnce).
        try await CommandRunner.check(
            binaries.initdb,
            [
                "-D", dataDirectory.path, "--locale=C.UTF-8", "--encoding=UTF8", "--auth=trust", "-U",
                configuration.username,
            ],
            as: user?.name, doing: "initializing the PostgreSQL data directory \(dataDirectory.path)")
    }

    // MARK: - Application database

    private func createDatabaseIfMissing() async throws {
        guard let server = running else { return }
        let connection: PostgresConnection
        do {
            connection = try await connect(port: server.port, password: server.password, database: "postgres")
        } catch let error as PSQLError where Self.isAuthenticationFailure(error) {
            throw DatabaseSetupError(
                .startFailed,
                "the embedded PostgreSQL refused the password in \(passwordFile.path): remove that file and start "
                    + "the coordinator again, which then sets a new password")
        }
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
