import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small files that only their owner may read (mode 0600): the embedded server's password and its
/// `pg_hba.conf`. Written whole or not at all, so a crash never leaves half a password behind.
enum PrivateFile {
    /// Writes `contents` to `url` through a temporary file beside it that is created with mode 0600
    /// (so it is never readable by others, whatever the umask), given to `owner` when one is named
    /// (the server user, when the coordinator runs as root), synced, then renamed over `url`.
    static func write(_ contents: String, to url: URL, owner: PostgresServerUser?) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        var written = 0
        let bytes = Array(contents.utf8)
        var problem: DatabaseSetupError?
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { writeBytes(fd, $0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                problem = failure("write", temporary)
                break
            }
            written += count
        }
        if problem == nil, let owner, fchown(fd, owner.uid, owner.gid) != 0 {
            problem = failure("give \(owner.name)", temporary)
        }
        if problem == nil, fsync(fd) != 0 { problem = failure("sync", temporary) }
        close(fd)
        if problem == nil, rename(temporary.path, url.path) != 0 {
            problem = failure("rename to \(url.path)", temporary)
        }
        if let problem {
            unlink(temporary.path)
            throw problem
        }
    }

    /// The file's text, or nil when there is no such file.
    static func read(_ url: URL) throws -> String? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw DatabaseSetupError(.unusableDataDirectory, "cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    /// Whether the file's mode lets anyone but its owner read or write it.
    static func isSharedWithOthers(_ url: URL) -> Bool {
        var info = stat()
        return stat(url.path, &info) == 0 && info.st_mode & 0o077 != 0
    }

    private static func failure(_ action: String, _ url: URL) -> DatabaseSetupError {
        DatabaseSetupError(
            .unusableDataDirectory, "cannot \(action) \(url.path): \(String(cString: strerror(errno)))")
    }
}

/// `write(2)`, out of reach of ``PrivateFile/write(_:to:owner:)``'s name.
private func writeBytes(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    write(fd, buffer.baseAddress, buffer.count)
}
