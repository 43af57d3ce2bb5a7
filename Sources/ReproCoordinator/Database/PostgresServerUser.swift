import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The unprivileged account that runs initdb and the server when the coordinator runs as root
/// (both refuse to run as root).
struct PostgresServerUser: Sendable, Hashable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    /// The name of the system user created when no `postgres` user exists.
    static let fallbackName = "reprogrid"

    /// Whether this process runs as root, and so must hand the server to another user.
    static var runningAsRoot: Bool { geteuid() == 0 }

    /// Picks the user as root: `configured` if given, else the existing owner of the data directory
    /// (so a later change of default never strands a cluster), else `postgres`, else `reprogrid`,
    /// created here as a system user.
    static func choose(configured: String?, dataDirectoryOwner: uid_t?, logger: Logger) async throws
        -> PostgresServerUser
    {
        if let configured {
            guard let user = lookup(configured) else {
                throw DatabaseSetupError(
                    .serverUserUnavailable,
                    "user '\(configured)' configured to run PostgreSQL does not exist: create it "
                        + "(useradd --system \(configured)) or leave the setting empty")
            }
            return user
        }
        if let owner = dataDirectoryOwner, owner != 0, let user = lookup(uid: owner) {
            return user
        }
        if let postgres = lookup("postgres") { return postgres }
        if let existing = lookup(fallbackName) { return existing }

        logger.notice(
            "creating system user \(fallbackName) to run PostgreSQL (initdb refuses to run as root)",
            metadata: ["repro.postgres.user": "\(fallbackName)"])
        let result = try await CommandRunner.run(
            "/usr/sbin/useradd",
            [
                "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                "--shell", "/usr/sbin/nologin", fallbackName,
            ])
        // Another process may have created it at the same moment; only its absence is an error.
        guard let created = lookup(fallbackName) else {
            throw DatabaseSetupError(
                .serverUserUnavailable,
                "cannot create system user \(fallbackName) to run PostgreSQL (useradd exited \(result.status): "
                    + "\(result.output)); create it yourself with `useradd --system \(fallbackName)`")
        }
        return created
    }

    static func lookup(_ name: String) -> PostgresServerUser? {
        withPasswordEntry { entry, buffer, size, result in getpwnam_r(name, &entry, buffer, size, &result) }
    }

    static func lookup(uid: uid_t) -> PostgresServerUser? {
        withPasswordEntry { entry, buffer, size, result in getpwuid_r(uid, &entry, buffer, size, &result) }
    }

    /// Calls the reentrant getpw*_r functions (the plain ones share a static buffer across threads).
    private static func withPasswordEntry(
        _ call: (inout passwd, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<passwd>?) -> Int32
    ) -> PostgresServerUser? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        // pw_name points into the buffer, so it is read while the buffer is still pinned.
        return buffer.withUnsafeMutableBufferPointer { pointer in
            let status = call(&entry, pointer.baseAddress!, pointer.count, &result)
            guard status == 0, result != nil, let name = entry.pw_name else { return nil }
            return PostgresServerUser(name: String(cString: name), uid: entry.pw_uid, gid: entry.pw_gid)
        }
    }
}
