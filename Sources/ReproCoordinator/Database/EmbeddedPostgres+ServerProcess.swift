import Foundation
import Logging

/// Starting, finding and stopping the server process of ``EmbeddedPostgres``.
extension EmbeddedPostgres {
    /// The port in the socket's name: the configured TCP port, else ``socketOnlyPort``.
    var serverPort: Int { configuration.port ?? Self.socketOnlyPort }

    /// The address the server listens on over TCP, as `postmaster.pid` records it: none by default.
    private var listenAddress: String? { configuration.port == nil ? nil : "127.0.0.1" }

    /// The port of a server already running on this data directory (left by a coordinator that was
    /// killed), after removing a `postmaster.pid` that no live server owns.
    ///
    /// A running server of a cluster without a password file (`secured` false) was started by an
    /// earlier version, with `trust` and TCP, or by a start that died before the password was set:
    /// it is stopped so that it can be started again the safe way.
    func reuseRunningServer(_ binaries: PostgresBinaries, as user: PostgresServerUser?, secured: Bool) async throws
        -> Int?
    {
        guard let pidFile = PostmasterPIDFile.read(in: dataDirectory) else { return nil }
        guard pidFile.belongsToRunningServer(dataDirectory: dataDirectory) else {
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
        guard secured else {
            logger.notice(
                """
                stopping the embedded PostgreSQL left running (pid \(pidFile.pid)) without a password file, \
                to start it again with password authentication
                """,
                metadata: ["repro.postgres.listen_address": "\(pidFile.listenAddress ?? "")"])
            try await stopServer(binaries, as: user)
            return nil
        }
        guard pidFile.socketDirectory == socketDirectory.path, pidFile.port == serverPort,
            pidFile.listenAddress == listenAddress
        else {
            let tcp = pidFile.listenAddress.map { "TCP on \($0):\(pidFile.port ?? 0)" } ?? "no TCP"
            throw DatabaseSetupError(
                .startFailed,
                "PostgreSQL (pid \(pidFile.pid)) is already running on \(dataDirectory.path) with other settings "
                    + "(\(tcp), socket in \(pidFile.socketDirectory ?? "?")): "
                    + "stop it (pg_ctl -D \(dataDirectory.path) stop) and start the coordinator again")
        }
        logger.notice(
            "embedded PostgreSQL is already running (pid \(pidFile.pid)); using it",
            metadata: ["repro.postgres.port": "\(serverPort)"])
        return serverPort
    }

    /// Starts the server with `pg_ctl -w` and returns the port in its socket's name; retries on
    /// shared memory still held by a killed server's last processes.
    ///
    /// The server listens on the Unix socket only (`listen_addresses=''`), or also on 127.0.0.1 when a
    /// port is configured; the socket itself is 0700 on top of its 0700 directory.
    func startServer(_ binaries: PostgresBinaries, as user: PostgresServerUser?) async throws -> Int {
        let port = serverPort
        let socketPath = socketDirectory.appendingPathComponent(".s.PGSQL.\(port)").path
        guard socketPath.utf8.count < 108 else {
            throw DatabaseSetupError(
                .unusableDataDirectory,
                "the socket path \(socketPath) is longer than the system allows (107 bytes): "
                    + "configure a data directory with a shorter path")
        }
        // pg_ctl hands -o to a shell, hence the quotes around the socket directory and the empty
        // address list.
        let options =
            "-p \(port) -k '\(socketDirectory.path)' -c listen_addresses='\(listenAddress ?? "")' "
            + "-c unix_socket_permissions=0700"
        var lastFailure = ""
        for attempt in 1...Self.startAttempts {
            let logOffset = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
            let result = try await CommandRunner.run(
                binaries.pgCtl,
                ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60", "-o", options, "start"],
                as: user?.name)
            if result.succeeded {
                logger.info(
                    "started embedded PostgreSQL \(binaries.majorVersion)",
                    metadata: [
                        "repro.postgres.socket": "\(socketPath)",
                        "repro.postgres.tcp": "\(configuration.port.map { "127.0.0.1:\($0)" } ?? "off")",
                    ])
                return port
            }
            let serverLog = readLog(from: logOffset)
            lastFailure = result.output + (serverLog.isEmpty ? "" : "\nserver log (\(logFile.path)):\n" + serverLog)
            let oldServerExiting =
                serverLog.contains("shared memory block is still in use")
                || serverLog.contains("lock file") && serverLog.contains("already exists")
            guard oldServerExiting, attempt < Self.startAttempts else { break }
            logger.debug("retrying PostgreSQL start", metadata: ["repro.postgres.attempt": "\(attempt)"])
            try await Task.sleep(for: .seconds(1))
        }
        throw DatabaseSetupError(
            .startFailed,
            "PostgreSQL did not start in \(dataDirectory.path); see \(logFile.path). pg_ctl said:\n\(lastFailure)")
    }

    /// Stops the server of this data directory (fast shutdown: open sessions are ended) and waits
    /// until it is down; a server that is already gone is only logged.
    func stopServer(_ binaries: PostgresBinaries, as user: PostgresServerUser?, mode: ShutdownMode = .fast) async throws {
        let result = try await CommandRunner.run(
            binaries.pgCtl, ["-D", dataDirectory.path, "-m", mode.rawValue, "-w", "-t", "60", "stop"], as: user?.name)
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

    private func readLog(from offset: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: logFile.path) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: UInt64(offset))
        let data = (try? handle.readToEnd()) ?? Data()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(40)
        return lines.joined(separator: "\n")
    }
}
