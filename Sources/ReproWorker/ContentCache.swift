import Foundation
import ReproCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A directory of files named by the SHA-256 of their content, for code
/// bundles and data sets downloaded from the coordinator.
///
/// A file is only ever stored after its hash was checked, and appears under
/// its final name in one `rename`, so a reader (another slot, another worker
/// process sharing the cache) sees either nothing or the complete file,
/// never a partial one, even if the writer crashes midway.
public struct ContentCache: Sendable {
    /// The cache's directory.
    public let directory: URL

    /// Temporary files older than this are leftovers of a crashed writer.
    static let staleTemporaryAge: TimeInterval = 3600
    private static let temporaryPrefix = ".tmp-"

    /// Opens the cache at `directory`, creating it if needed and removing
    /// temporary files that crashed writers left behind.
    public init(directory: URL) throws(ContentCacheError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ContentCacheError(
                .ioFailed,
                "cannot create cache directory \(directory.path): \(error.localizedDescription)"
            )
        }
        removeStaleTemporaryFiles()
    }

    /// Where the file with this hash is (or would be) stored.
    ///
    /// - Throws: ``ContentCacheError`` if `sha256` is not 64 hexadecimal
    ///   digits: the hash comes from the network and becomes a file name.
    public func path(for sha256: String) throws(ContentCacheError) -> URL {
        directory.appending(path: try Self.normalized(sha256), directoryHint: .notDirectory)
    }

    /// Whether a file with this hash is stored; false for an invalid hash.
    public func contains(_ sha256: String) -> Bool {
        guard let url = try? path(for: sha256) else { return false }
        return FileManager.default.fileExists(atPath: url.path)
    }

    /// Stores `data` if its SHA-256 is `expectedSHA256`, and returns its path.
    ///
    /// - Throws: ``ContentCacheError`` with code `hashMismatch` (nothing is
    ///   stored) or `ioFailed`.
    @discardableResult
    public func store(data: Data, expectedSHA256: String) throws(ContentCacheError) -> URL {
        let expected = try Self.normalized(expectedSHA256)
        let actual = BundleArchive.sha256Hex(data)
        guard actual == expected else {
            throw ContentCacheError(
                .hashMismatch,
                "content of \(data.count) bytes has SHA-256 \(actual), expected \(expected); it was not stored"
            )
        }
        let destination = directory.appending(path: expected, directoryHint: .notDirectory)
        let temporary = directory.appending(path: "\(Self.temporaryPrefix)\(expected)-\(UUID().uuidString)")
        do {
            try Self.writeDurably(data, to: temporary)
        } catch {
            unlink(temporary.path)
            throw error
        }
        // rename(2) within one directory is atomic: readers see the old state
        // or the whole file. Two writers of the same hash write the same bytes.
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw ContentCacheError(.ioFailed, "cannot move content into \(destination.path): \(reason)")
        }
        return destination
    }

    /// The stored content with this hash, re-verified, or nil if it is not
    /// stored. A file whose content no longer matches its name (disk
    /// corruption, tampering) is deleted and reported as absent.
    public func verifiedData(for sha256: String) throws(ContentCacheError) -> Data? {
        let url = try path(for: sha256)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        guard BundleArchive.sha256Hex(data) == url.lastPathComponent else {
            unlink(url.path)
            return nil
        }
        return data
    }

    /// Lowercase hex, or an error naming what was given.
    static func normalized(_ sha256: String) throws(ContentCacheError) -> String {
        let lowercased = sha256.lowercased()
        guard lowercased.utf8.count == 64,
            lowercased.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw ContentCacheError(
                .invalidHash,
                "\(sha256.prefix(80).debugDescription) is not a SHA-256 in hex (64 digits)"
            )
        }
        return lowercased
    }

    /// Writes and fsyncs a new file, so that the rename that follows cannot
    /// publish a name whose data a power loss would leave empty. The file is
    /// created with `mode` (less the umask), so a secret is never readable by
    /// others, not even briefly. On failure a created file stays: the caller
    /// removes it.
    static func writeDurably(_ data: Data, to url: URL, mode: mode_t = 0o644) throws(ContentCacheError) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ContentCacheError(.ioFailed, "cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        guard written, fsync(fd) == 0 else {
            throw ContentCacheError(.ioFailed, "cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    private func removeStaleTemporaryFiles() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let cutoff = Date(timeIntervalSinceNow: -Self.staleTemporaryAge)
        for name in names where name.hasPrefix(Self.temporaryPrefix) {
            let url = directory.appending(path: name)
            let modified = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
            if let modified, modified < cutoff {
                unlink(url.path)
            }
        }
    }
}
