import Foundation
import Logging
import Synchronization
import Testing

@testable import ReproWorker

@Suite("VirtualEnvBuilder")
struct VirtualEnvBuilderTests {
    /// The worker's environment with pip kept off the network: these tests must not download.
    static let offline: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        environment["PIP_NO_INDEX"] = "1"
        return environment
    }()

    private func requirements(_ text: String, in directory: TemporaryDirectory) throws -> URL {
        let url = directory.url.appending(path: "requirements.txt")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test("a requirements file without requirements builds a working venv, reused the second time")
    func buildAndReuse() async throws {
        let directory = try TemporaryDirectory()
        let file = try requirements("# nothing to install\n\n", in: directory)
        let messages = LogRecorder()
        let builder = VirtualEnvBuilder(processEnvironment: Self.offline, logger: messages.logger)
        let cache = directory.url.appending(path: "cache")

        let first = try await builder.environment(forRequirements: file, cacheRoot: cache)
        #expect(first.root.deletingLastPathComponent().path == cache.appending(path: "venvs").path)
        #expect(first.root.lastPathComponent.count == 64)
        #expect(FileManager.default.isExecutableFile(atPath: first.python.path))
        #expect(first.binDirectory.path == first.root.appending(path: "bin").path)
        #expect(FileManager.default.fileExists(atPath: first.root.appending(path: ".complete").path))
        #expect(
            FileManager.default.fileExists(
                atPath: cache.appending(path: "venvs/\(first.root.lastPathComponent).lock").path
            )
        )

        let second = try await builder.environment(forRequirements: file, cacheRoot: cache)
        #expect(second == first)
        #expect(messages.count(of: "building virtualenv") == 1)
        #expect(messages.count(of: "reusing virtualenv") == 1)

        // Other content is another environment.
        let other = try requirements("# something else\n", in: directory)
        let third = try await builder.environment(forRequirements: other, cacheRoot: cache)
        #expect(third != first)
    }

    @Test("a cached environment someone changed after its build is rebuilt, not reused")
    func tamperedEnvironmentIsRebuilt() async throws {
        let directory = try TemporaryDirectory()
        let file = try requirements("# nothing to install\n", in: directory)
        let messages = LogRecorder()
        let builder = VirtualEnvBuilder(processEnvironment: Self.offline, logger: messages.logger)
        let cache = directory.url.appending(path: "cache")
        let built = try await builder.environment(forRequirements: file, cacheRoot: cache)
        #expect(VirtualEnvSeal.isIntact(built.root))

        // What a hostile job outside a sandbox could do: a .pth file that runs in every later job.
        let packages = try #require(
            FileManager.default.enumerator(atPath: built.root.path)?.compactMap { $0 as? String }
                .first { $0.hasSuffix("site-packages") })
        let folder = built.root.appending(path: packages)
        chmod(folder.path, 0o755)
        let evil = folder.appending(path: "zz_evil.pth")
        try Data("import os\n".utf8).write(to: evil)

        let again = try await builder.environment(forRequirements: file, cacheRoot: cache)
        #expect(again == built)
        #expect(!FileManager.default.fileExists(atPath: evil.path), "the tampered environment was rebuilt")
        #expect(messages.count(of: "virtualenv changed since it was sealed (or was built by an older worker); rebuilding it") == 1)
        #expect(messages.count(of: "building virtualenv") == 2)
        #expect(VirtualEnvSeal.isIntact(again.root))
    }

    @Test("concurrent builders of the same requirements build once and share the result")
    func concurrentBuilders() async throws {
        let directory = try TemporaryDirectory()
        let file = try requirements("", in: directory)
        let messages = LogRecorder()
        let cache = directory.url.appending(path: "cache")
        let builder = VirtualEnvBuilder(processEnvironment: Self.offline, logger: messages.logger)
        let roots = try await withThrowingTaskGroup(of: VirtualEnv.self) { group in
            for _ in 0..<3 {
                group.addTask { try await builder.environment(forRequirements: file, cacheRoot: cache) }
            }
            return try await group.reduce(into: [VirtualEnv]()) { $0.append($1) }
        }
        #expect(Set(roots.map(\.root)).count == 1)
        #expect(messages.count(of: "building virtualenv") == 1)
    }

    @Test("an invalid requirement fails with pip's message and leaves no venv behind")
    func invalidRequirement() async throws {
        let directory = try TemporaryDirectory()
        let file = try requirements("foo[\n", in: directory)
        let cache = directory.url.appending(path: "cache")
        let builder = VirtualEnvBuilder(processEnvironment: Self.offline, logger: .test)
        let error = await #expect(throws: VirtualEnvError.self) {
            try await builder.environment(forRequirements: file, cacheRoot: cache)
        }
        #expect(error?.code == .installFailed)
        #expect(error?.message.hasPrefix("pip install -r requirements.txt failed (exit status 1):") == true)
        #expect(error?.message.contains("Invalid requirement: 'foo['") == true)
        #expect(error?.output?.contains("Invalid requirement") == true)
        let left = try FileManager.default.contentsOfDirectory(atPath: cache.appending(path: "venvs").path)
        #expect(left.allSatisfy { $0.hasSuffix(".lock") })
    }

    @Test("a directory without the completion marker is removed and rebuilt")
    func incompleteRebuilt() async throws {
        let directory = try TemporaryDirectory()
        let file = try requirements("", in: directory)
        let cache = directory.url.appending(path: "cache")
        let builder = VirtualEnvBuilder(processEnvironment: Self.offline, logger: .test)
        let built = try await builder.environment(forRequirements: file, cacheRoot: cache)

        // As if a build had crashed: no marker, and debris.
        try FileManager.default.removeItem(at: built.root.appending(path: ".complete"))
        let debris = built.root.appending(path: "half-installed")
        try Data().write(to: debris)

        let rebuilt = try await builder.environment(forRequirements: file, cacheRoot: cache)
        #expect(rebuilt == built)
        #expect(!FileManager.default.fileExists(atPath: debris.path))
        #expect(FileManager.default.fileExists(atPath: built.root.appending(path: ".complete").path))
    }

    @Test("a Python that does not exist is a clear error")
    func missingPython() async throws {
        let directory = try TemporaryDirectory()
        let file = try requirements("", in: directory)
        let builder = VirtualEnvBuilder(processEnvironment: Self.offline, logger: .test)
        let error = await #expect(throws: VirtualEnvError.self) {
            try await builder.environment(
                forRequirements: file,
                cacheRoot: directory.url,
                python: "python-does-not-exist"
            )
        }
        #expect(error?.code == .pythonNotFound)
        #expect(
            error?.message.hasPrefix("cannot run python-does-not-exist: python-does-not-exist was not found") == true
        )
    }

    @Test("requirement lines are told apart from blanks and comments")
    func hasRequirements() {
        #expect(!VirtualEnvBuilder.hasRequirements(Data()))
        #expect(!VirtualEnvBuilder.hasRequirements(Data("# a\n   \n\t# b\n".utf8)))
        #expect(VirtualEnvBuilder.hasRequirements(Data("numpy==2.4.6  # pinned\n".utf8)))
        #expect(VirtualEnvBuilder.hasRequirements(Data("-r base.txt\n".utf8)))
    }
}

/// Records log messages, to count what a builder did.
final class LogRecorder: Sendable {
    private let messages = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "repro.worker.tests") { _ in Handler(recorder: self) }
    }

    func count(of message: String) -> Int {
        messages.withLock { $0.filter { $0 == message }.count }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.messages.withLock { $0.append(event.message.description) }
        }
    }
}
