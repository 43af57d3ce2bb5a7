import Foundation
import ReproCore

/// Results on disk until the coordinator acknowledges them: written (fsync'd, renamed into place)
/// before the first send, removed only on a receipt. A worker restarted after a crash or an outage
/// sends whatever is still here.
public struct ResultSpool: Sendable {
    let directory: URL

    /// Opens (creates) the spool folder.
    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    private func url(for leaseID: UUID) -> URL {
        directory.appendingPathComponent("\(leaseID.uuidString.lowercased()).json")
    }

    /// Writes a result durably.
    public func store(_ result: TaskResult) throws {
        let data = try WireCoding.encoder().encode(result)
        let final = url(for: result.leaseID)
        let temporary = final.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.synchronize()
        try handle.close()
        if rename(temporary.path, final.path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: final.path])
        }
    }

    /// Every pending result (unreadable files are moved aside, not lost).
    public func pending() -> [TaskResult] {
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        var results: [TaskResult] = []
        for file in files where file.pathExtension == "json" {
            if let data = try? Data(contentsOf: file), let result = try? WireCoding.decoder().decode(TaskResult.self, from: data) {
                results.append(result)
            } else {
                try? FileManager.default.moveItem(at: file, to: file.appendingPathExtension("unreadable"))
            }
        }
        return results.sorted { $0.taskID < $1.taskID }
    }

    /// Forgets an acknowledged result.
    public func remove(leaseID: UUID) {
        try? FileManager.default.removeItem(at: url(for: leaseID))
    }
}

extension ResultSpool {
    /// Moves a result the coordinator will never take out of the way (kept for inspection).
    public func quarantine(leaseID: UUID) {
        let file = url(for: leaseID)
        try? FileManager.default.moveItem(at: file, to: file.appendingPathExtension("refused"))
    }
}
