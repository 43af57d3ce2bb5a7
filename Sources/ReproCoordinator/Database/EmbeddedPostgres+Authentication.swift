import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Password authentication of ``EmbeddedPostgres``.
///
/// Earlier versions ran the cluster with `trust` on 127.0.0.1, so any local process, a training job
/// on a volunteer's machine included, could connect as superuser, read the key hashes and run
/// `COPY … TO PROGRAM`. Now the superuser has a random password that only the coordinator (the
/// server's user, or root) can read, every `pg_hba.conf` line asks for it, and every start checks
/// that a connection without it is refused before the coordinator uses the server.
extension EmbeddedPostgres {
    /// `pg_hba.conf` in the data directory.
    var hbaFile: URL { dataDirectory.appendingPathComponent(PostgresHBAFile.fileName) }

    /// The password kept in ``passwordFile``, or nil when the cluster has none yet (new, or made by an
    /// earlier version). An empty file counts as none, so a new password is set.
    func readPassword() throws -> String? {
        guard let text = try PrivateFile.read(passwordFile) else { return nil }
        let password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !password.isEmpty else { return nil }
        if PrivateFile.isSharedWithOthers(passwordFile) {
            chmod(passwordFile.path, 0o600)
            logger.warning(
                "the embedded PostgreSQL password file was readable by others; made it 0600",
                metadata: ["repro.postgres.password_file": "\(passwordFile.path)"])
        }
        return password
    }

    /// Writes the password-only `pg_hba.conf` unless the file already says exactly that; returns
    /// whether it wrote, so a running server can be told to read it again.
    @discardableResult
    func writeManagedHBA(owner: PostgresServerUser?) throws -> Bool {
        let wanted = PostgresHBAFile.managed(passwordFile: passwordFile)
        if try PrivateFile.read(hbaFile) == wanted { return false }
        try PrivateFile.write(wanted, to: hbaFile, owner: owner)
        return true
    }

    /// Gives the superuser a new random password over the socket (the server runs with
    /// ``PostgresHBAFile/passwordSetup``, which admits the socket without one), keeps it in
    /// ``passwordFile``, writes the password-only `pg_hba.conf` and makes the server read it.
    ///
    /// The role's password changes before the file is written: a crash in between leaves no file,
    /// and the next start simply sets another password.
    func setPassword(port: Int, owner: PostgresServerUser?) async throws -> String {
        let password = Self.generatePassword()
        let connection = try await connect(port: port, password: nil, database: "postgres")
        do {
            // PostgreSQL before 14 stores md5 by default, which scram-sha-256 lines cannot check.
            try await connection.query("SET password_encryption = 'scram-sha-256'", logger: logger)
            // ALTER ROLE takes no bind parameters; the password is hex and the name is quoted.
            let role = "\"" + configuration.username.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            try await connection.query(
                PostgresQuery(unsafeSQL: "ALTER ROLE \(role) WITH PASSWORD '\(password)'"), logger: logger)
            try PrivateFile.write(password + "\n", to: passwordFile, owner: owner)
            try writeManagedHBA(owner: owner)
            try await connection.query("SELECT pg_reload_conf()", logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return password
    }

    /// Tells a running server to read its configuration files again (`pg_reload_conf()`).
    func reloadConfiguration(port: Int, password: String) async throws {
        let connection = try await connect(port: port, password: password, database: "postgres")
        do {
            try await connection.query("SELECT pg_reload_conf()", logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Returns once a connection without the password is refused; the server reads a new
    /// `pg_hba.conf` a moment after `pg_reload_conf()`, so this waits up to 10 seconds for that.
    /// Throws when the server still admits one, so the coordinator never serves from such a server.
    func expectPasswordRequired(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                let connection = try await connect(port: port, password: nil, database: "postgres")
                try? await connection.close()
            } catch let error as PSQLError where Self.isAuthenticationFailure(error) {
                return
            }
            guard ContinuousClock.now < deadline else {
                throw DatabaseSetupError(
                    .startFailed,
                    "the embedded PostgreSQL in \(dataDirectory.path) still admits connections without a password "
                        + "after \(hbaFile.path) was rewritten; stop it (pg_ctl -D \(dataDirectory.path) stop) "
                        + "and start the coordinator again")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A connection over the Unix socket as the superuser.
    func connect(port: Int, password: String?, database: String) async throws -> PostgresConnection {
        let socketPath = socketDirectory.appendingPathComponent(".s.PGSQL.\(port)").path
        return try await PostgresConnection.connect(
            configuration: .init(
                unixSocketPath: socketPath, username: configuration.username, password: password, database: database),
            id: 1, logger: logger)
    }

    /// A refusal for want of the right password: the server asked for one (SCRAM) that the client
    /// does not have, or rejected the one given (SQLSTATE class 28, invalid authorization).
    static func isAuthenticationFailure(_ error: PSQLError) -> Bool {
        error.code == .authMechanismRequiresPassword || error.serverInfo?[.sqlState]?.hasPrefix("28") == true
    }

    /// 256 random bits as 64 hex digits: nothing to quote in SQL or in a file.
    static func generatePassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
