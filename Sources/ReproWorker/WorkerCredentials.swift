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

    static func file(in directory: URL) -> URL { directory.appendingPathComponent("worker.json") }

    static func load(from directory: URL, coordinator: String) -> WorkerCredentials? {
        guard let data = try? Data(contentsOf: file(in: directory)),
            let credentials = try? JSONDecoder().decode(WorkerCredentials.self, from: data),
            credentials.coordinator == coordinator
        else { return nil }
        return credentials
    }

    func save(in directory: URL) throws {
        let url = Self.file(in: directory)
        let temporary = url.appendingPathExtension("tmp")
        let data = try JSONEncoder().encode(self)
        // A leftover of a crashed save would make the exclusive create fail.
        unlink(temporary.path)
        do {
            // The token is a secret: readable by this user only, from the moment the file exists.
            try ContentCache.writeDurably(data, to: temporary, mode: 0o600)
        } catch {
            unlink(temporary.path)
            throw WorkerError("cannot save the worker token in \(url.path): \(error)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw WorkerError("cannot save the worker token in \(url.path): \(reason)")
        }
    }
}
