import Foundation
import ReproCore

/// The worker's own token, saved in its work directory after registration so a restarted worker
/// keeps its identity (and its leases).
struct WorkerCredentials: Codable, Sendable {
    var coordinator: String
    var workerID: UUID
    var token: String

    enum CodingKeys: String, CodingKey {
        case coordinator
        case workerID = "worker_id"
        case token
    }

    /// `WORK_DIR/private/worker.json`: a 0700 folder of the worker's that no sandbox binds.
    static func file(in directory: URL) -> URL { privateDirectory(in: directory).appendingPathComponent("worker.json") }

    static func privateDirectory(in directory: URL) -> URL { directory.appendingPathComponent("private") }

    /// Creates the private folder (0700, also when it existed with looser modes) and moves a token
    /// saved by an earlier version (`WORK_DIR/worker.json`) into it.
    static func preparePrivateDirectory(in directory: URL) throws {
        let privateDirectory = privateDirectory(in: directory)
        try FileManager.default.createDirectory(at: privateDirectory, withIntermediateDirectories: true)
        guard chmod(privateDirectory.path, 0o700) == 0 else {
            throw WorkerError("cannot make \(privateDirectory.path) private: \(String(cString: strerror(errno)))")
        }
        let old = directory.appendingPathComponent("worker.json")
        if FileManager.default.fileExists(atPath: old.path),
            !FileManager.default.fileExists(atPath: file(in: directory).path)
        {
            guard rename(old.path, file(in: directory).path) == 0 else {
                throw WorkerError(
                    "cannot move \(old.path) into \(privateDirectory.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func load(from directory: URL, coordinator: String) -> WorkerCredentials? {
        guard let data = try? Data(contentsOf: file(in: directory)),
            let credentials = try? JSONDecoder().decode(WorkerCredentials.self, from: data),
            credentials.coordinator == coordinator
        else { return nil }
        return credentials
    }

    func save(in directory: URL) throws {
        // The token is a secret: readable by this user only, from the moment the file exists.
        try Self.writePrivately(
            try JSONEncoder().encode(self), to: Self.file(in: directory), in: directory, what: "the worker token")
    }

    /// Writes `data` to `url` in the private folder: a 0600 temporary file renamed over it, so a crash
    /// leaves the old file or the new one, never half of one. Used for the token and the pinned keys.
    static func writePrivately(_ data: Data, to url: URL, in directory: URL, what: String) throws {
        try preparePrivateDirectory(in: directory)
        let temporary = url.appendingPathExtension("tmp")
        // A leftover of a crashed save would make the exclusive create fail.
        unlink(temporary.path)
        do {
            try ContentCache.writeDurably(data, to: temporary, mode: 0o600)
        } catch {
            unlink(temporary.path)
            throw WorkerError("cannot save \(what) in \(url.path): \(error)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw WorkerError("cannot save \(what) in \(url.path): \(reason)")
        }
    }
}
