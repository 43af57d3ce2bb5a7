import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Makes a built virtualenv read-only and records a digest of its tree, so that a cached
/// environment someone changed afterwards (a `.pth` file that runs in every later job, an edited
/// package) is noticed and rebuilt instead of reused.
///
/// The digest covers each entry's relative path, type, mode, owner, size, link target, and its
/// modification and change times. A change time cannot be set by any process (writing, `chmod`,
/// `chown`, `utimes` and renames all move it to now), so a tree whose digest matches has not been
/// written since it was sealed. Hashing metadata instead of contents keeps the check cheap enough to
/// run before every job (a few milliseconds for a scikit-learn environment's ~5 000 files).
///
/// Sealing removes every write bit and, for a root worker, gives the tree to root, so that the job
/// user cannot write it even outside a sandbox.
public enum VirtualEnvSeal {
    /// Where the digest of the environment at `root` is kept: beside it, outside the tree jobs see.
    public static func recordFile(for root: URL) -> URL {
        root.deletingLastPathComponent().appending(path: root.lastPathComponent + ".seal")
    }

    /// Makes the tree read-only (root-owned for a root worker) and records its digest durably.
    public static func seal(_ root: URL) throws {
        try walk(root) { path, info in
            let isLink = info.st_mode & S_IFMT == S_IFLNK
            if getuid() == 0 {
                guard lchown(path, 0, 0) == 0 else { throw VirtualEnvSeal.failure("chown", path) }
            }
            // chmod follows links: a link's target is either inside the tree (sealed on its own) or not ours.
            if !isLink {
                guard chmod(path, info.st_mode & 0o7555) == 0 else { throw VirtualEnvSeal.failure("chmod", path) }
            }
        }
        let digest = try self.digest(of: root)
        let record = recordFile(for: root)
        let temporary = record.appendingPathExtension("tmp")
        unlink(temporary.path)
        try ContentCache.writeDurably(Data(digest.utf8), to: temporary, mode: 0o644)
        guard rename(temporary.path, record.path) == 0 else { throw failure("rename", record.path) }
    }

    /// Whether the tree still has the digest recorded when it was sealed (false without a record).
    public static func isIntact(_ root: URL) -> Bool {
        guard let recorded = try? String(contentsOf: recordFile(for: root), encoding: .utf8),
            let current = try? digest(of: root)
        else { return false }
        return recorded == current
    }

    /// Removes a sealed or unsealed tree and its record; write bits are restored first where the
    /// worker needs them to delete (an unprivileged worker cannot delete from a read-only directory).
    public static func remove(_ root: URL) throws {
        unlink(recordFile(for: root).path)
        guard FileManager.default.fileExists(atPath: root.path) else { return }
        if getuid() != 0 {
            try walk(root) { path, info in
                if info.st_mode & S_IFMT == S_IFDIR { chmod(path, (info.st_mode & 0o7777) | 0o700) }
            }
        }
        try FileManager.default.removeItem(at: root)
    }

    /// The hex SHA-256 of the tree's metadata, entries in sorted order.
    public static func digest(of root: URL) throws -> String {
        var hasher = SHA256()
        try walk(root) { path, info in
            let relative = String(path.dropFirst(root.path.count))
            var target = ""
            if info.st_mode & S_IFMT == S_IFLNK {
                target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
            }
            let line =
                "\(relative)\0\(info.st_mode)\0\(info.st_uid):\(info.st_gid)\0\(info.st_size)\0\(target)\0"
                + "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\0\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)\n"
            hasher.update(data: Data(line.utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Visits `root` and everything below it, parents first, names in byte order; never follows links.
    static func walk(_ root: URL, _ visit: (String, stat) throws -> Void) throws {
        var info = stat()
        guard lstat(root.path, &info) == 0 else { throw failure("lstat", root.path) }
        try visit(root.path, info)
        guard info.st_mode & S_IFMT == S_IFDIR else { return }
        guard let directory = opendir(root.path) else { throw failure("opendir", root.path) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(directory)
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            try walk(root.appending(path: name, directoryHint: .notDirectory), visit)
        }
    }

    static func failure(_ call: String, _ path: String) -> VirtualEnvError {
        VirtualEnvError(.ioFailed, "\(call) \(path): \(String(cString: strerror(errno)))")
    }
}
