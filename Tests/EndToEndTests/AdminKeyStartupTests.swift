import Foundation
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

/// The first admin key of a real `repro-coordinator serve` process: generated and printed at once,
/// or read from `--admin-key-file`; `--admin-key` still works but warns that `ps` shows it.
@Suite("Coordinator admin key")
struct AdminKeyStartupTests {
    static let keyLinePrefix = "Admin API key (shown once, store it now): "

    /// Starts a coordinator on `database` and waits until it answers `/readyz`.
    static func coordinator(
        _ database: TestDatabase, logs: URL, name: String, extra: [String]
    ) async throws -> (process: ManagedProcess, url: String) {
        let port = Paths.freePort()
        let process = try ManagedProcess(
            name: name, executable: Paths.binary("repro-coordinator"),
            arguments: [
                "serve", "--database-url", database.url, "--port", "\(port)", "--migrations-dir",
                Paths.migrations.path, "--signing-key", logs.appendingPathComponent("signing.key").path,
            ] + extra,
            // Empty counts as unset, so a REPRO_ADMIN_KEY in the test's own environment cannot interfere.
            environment: ["REPRO_ADMIN_KEY": ""], logDirectory: logs)
        let url = "http://127.0.0.1:\(port)"
        let client = CoordinatorClient(baseURL: url, key: nil)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await client.send(.GET, "/readyz")) != nil { return (process, url) }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.kill9()
        throw ClusterError("coordinator \(name) did not become ready:\n\(process.output.suffix(4000))")
    }

    /// With stdout a file, as under a supervisor that logs to disk, a buffered `print` would keep the
    /// line until the buffer fills or the process exits; the key must be readable while it runs.
    @Test("a generated admin key is written out at once and works", .timeLimit(.minutes(3)))
    func generatedKeyIsPrintedAtOnce() async throws {
        let database = try await TestDatabase.create()
        let logs = try Paths.temporaryDirectory("reprogrid-admin-key")
        let (process, url) = try await Self.coordinator(database, logs: logs, name: "generated", extra: [])
        let line = process.output.split(separator: "\n").first { $0.hasPrefix(Self.keyLinePrefix) }
        #expect(process.isRunning)
        let key = try #require(line.map { String($0.dropFirst(Self.keyLinePrefix.count)) }, "\(process.output)")
        let created = try await CoordinatorClient(baseURL: url, key: key).createAccount(name: "r", roles: [.researcher])
        #expect(created.key.hasPrefix("rg_"))
        process.terminate()
        #expect(await process.waitForExit(timeout: .seconds(30)))
        try await database.drop()
        try? FileManager.default.removeItem(at: logs)
    }

    @Test("--admin-key-file is read; --admin-key works but warns", .timeLimit(.minutes(3)))
    func keyFileAndCommandLine() async throws {
        let database = try await TestDatabase.create()
        let logs = try Paths.temporaryDirectory("reprogrid-admin-key")
        let key = "rg_e2e_file_key_0123456789abcdefghijklmnopqrstuvw"
        let file = logs.appendingPathComponent("admin.key")
        try Data((key + "\n").utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)

        let (fromFile, url) = try await Self.coordinator(
            database, logs: logs, name: "file", extra: ["--admin-key-file", file.path])
        _ = try await CoordinatorClient(baseURL: url, key: key).createAccount(name: "r", roles: [.researcher])
        #expect(!fromFile.output.contains(Self.keyLinePrefix), "a given key is never printed")
        #expect(!fromFile.output.contains("/proc/PID/cmdline"))
        fromFile.terminate()
        #expect(await fromFile.waitForExit(timeout: .seconds(30)))

        let (onCommandLine, _) = try await Self.coordinator(
            database, logs: logs, name: "command-line", extra: ["--admin-key", key])
        #expect(onCommandLine.output.contains("/proc/PID/cmdline"), "\(onCommandLine.output)")
        onCommandLine.terminate()
        #expect(await onCommandLine.waitForExit(timeout: .seconds(30)))

        // Both at once is a usage error, before anything starts.
        let both = try ManagedProcess(
            name: "both", executable: Paths.binary("repro-coordinator"),
            arguments: ["serve", "--database-url", database.url, "--admin-key", key, "--admin-key-file", file.path],
            logDirectory: logs)
        #expect(await both.waitForExit(timeout: .seconds(30)))
        #expect(both.exitStatus != 0)
        #expect(both.output.contains("not both"), "\(both.output)")
        try await database.drop()
        try? FileManager.default.removeItem(at: logs)
    }
}
