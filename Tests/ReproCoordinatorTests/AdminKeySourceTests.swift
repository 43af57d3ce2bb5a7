import Foundation
import Testing

@testable import ReproCoordinator

/// Where `repro-coordinator serve` takes the first admin key from: `--admin-key-file`,
/// `REPRO_ADMIN_KEY`, or (with a warning) `--admin-key`.
@Suite("Admin key source")
struct AdminKeySourceTests {
    let key = "rg_admin_key_0123456789abcdefghijklmnopqrstuvwxyz"

    @Test func nothingGivenMeansGenerate() throws {
        #expect(try AdminKeySource.resolve(commandLine: nil, file: nil, environment: [:]) == nil)
        // An empty variable is as good as unset (e.g. `REPRO_ADMIN_KEY=` left in a .env file).
        #expect(try AdminKeySource.resolve(commandLine: nil, file: nil, environment: ["REPRO_ADMIN_KEY": ""]) == nil)
    }

    @Test func environmentIsReadWithoutWarnings() throws {
        let source = try #require(
            try AdminKeySource.resolve(commandLine: nil, file: nil, environment: ["REPRO_ADMIN_KEY": key + "\n"]))
        #expect(source == AdminKeySource(key: key, origin: .environment, warnings: []))
    }

    @Test func commandLineStillWorksButWarnsThatPsShowsIt() throws {
        let source = try #require(
            try AdminKeySource.resolve(commandLine: key, file: nil, environment: ["REPRO_ADMIN_KEY": "other"]))
        #expect(source.key == key)
        #expect(source.origin == .commandLine)
        #expect(source.warnings.count == 1)
        #expect(source.warnings[0].contains("/proc/PID/cmdline"))
        #expect(source.warnings[0].contains("--admin-key-file"))
    }

    @Test func fileIsReadTrimmedAndWinsOverTheEnvironment() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("admin.key")
        try Self.write(key + "\n", to: file, mode: 0o600)
        let source = try #require(
            try AdminKeySource.resolve(commandLine: nil, file: file.path, environment: ["REPRO_ADMIN_KEY": "other"]))
        #expect(source == AdminKeySource(key: key, origin: .file, warnings: []))

        // Readable by others: still used, with a warning saying how to fix it.
        try Self.write(key, to: file, mode: 0o644)
        let shared = try #require(try AdminKeySource.resolve(commandLine: nil, file: file.path, environment: [:]))
        #expect(shared.key == key)
        #expect(shared.warnings.count == 1)
        #expect(shared.warnings[0].contains("chmod 600 \(file.path)"))
    }

    @Test func badInputsAreRefusedNamingTheOption() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.key")
        try Self.write(" \n", to: empty, mode: 0o600)
        let huge = directory.appendingPathComponent("huge.key")
        try Self.write(String(repeating: "k", count: 5000), to: huge, mode: 0o600)
        let binary = directory.appendingPathComponent("binary.key")
        try Data([0xff, 0xfe, 0x00]).write(to: binary)
        let cases: [(commandLine: String?, file: String?, environment: [String: String], message: String)] = [
            (key, directory.appendingPathComponent("admin.key").path, [:], "not both"),
            (nil, directory.appendingPathComponent("missing.key").path, [:], "missing.key cannot be read"),
            (nil, empty.path, [:], "--admin-key-file \(empty.path) is empty"),
            (nil, huge.path, [:], "larger than 4096 bytes"),
            (nil, binary.path, [:], "is not UTF-8 text"),
            ("  ", nil, [:], "--admin-key is empty"),
            (nil, nil, ["REPRO_ADMIN_KEY": " \n"], "REPRO_ADMIN_KEY is empty"),
        ]
        for entry in cases {
            let error = try #require(throws: CoordinatorStartupError.self) {
                try AdminKeySource.resolve(
                    commandLine: entry.commandLine, file: entry.file, environment: entry.environment)
            }
            #expect(error.description.contains(entry.message), "\(error.description)")
        }
    }

    static func directory() throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/reprogrid-admin-key-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ text: String, to url: URL, mode: Int) throws {
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }
}
