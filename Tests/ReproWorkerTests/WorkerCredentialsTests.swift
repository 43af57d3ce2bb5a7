import Foundation
import Testing

@testable import ReproWorker

@Suite("WorkerCredentials")
struct WorkerCredentialsTests {
    @Test("the saved token is readable by its owner only and loads back")
    func saveIsPrivate() throws {
        let directory = try TemporaryDirectory()
        let file = WorkerCredentials.file(in: directory.url)
        try WorkerCredentials.preparePrivateDirectory(in: directory.url)
        // A leftover of a crashed save does not block the next one.
        try Data("stale".utf8).write(to: file.appendingPathExtension("tmp"))
        let credentials = WorkerCredentials(coordinator: "http://coordinator", workerID: UUID(), token: "secret")
        try credentials.save(in: directory.url)

        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let folder = WorkerCredentials.privateDirectory(in: directory.url).path
        #expect(try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int == 0o700)
        #expect(!FileManager.default.fileExists(atPath: file.appendingPathExtension("tmp").path))
        let loaded = WorkerCredentials.load(from: directory.url, coordinator: "http://coordinator")
        #expect(loaded?.workerID == credentials.workerID)
        #expect(loaded?.token == "secret")
    }

    @Test("a failed save leaves no temporary file behind")
    func failedSaveCleansUp() throws {
        let directory = try TemporaryDirectory()
        let file = WorkerCredentials.file(in: directory.url)
        // A non-empty directory where the file should go makes the rename fail.
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: true)
        try Data().write(to: file.appendingPathComponent("occupied"))
        let credentials = WorkerCredentials(coordinator: "http://coordinator", workerID: UUID(), token: "secret")

        #expect(throws: (any Error).self) { try credentials.save(in: directory.url) }
        #expect(!FileManager.default.fileExists(atPath: file.appendingPathExtension("tmp").path))
    }

    @Test("a token saved by an earlier version in the work directory moves into the private folder")
    func oldLocationMigrates() throws {
        let directory = try TemporaryDirectory()
        let credentials = WorkerCredentials(coordinator: "http://coordinator", workerID: UUID(), token: "secret")
        try JSONEncoder().encode(credentials).write(to: directory.url.appendingPathComponent("worker.json"))

        try WorkerCredentials.preparePrivateDirectory(in: directory.url)
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("worker.json").path))
        #expect(WorkerCredentials.load(from: directory.url, coordinator: "http://coordinator")?.token == "secret")
    }
}
