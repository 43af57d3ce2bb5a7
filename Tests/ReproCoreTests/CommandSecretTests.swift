import Foundation
import ReproCore
import Testing

/// The worker's token follows the same rule as the coordinator's admin key (`AdminKeySourceTests`
/// covers the rule's messages); here: the worker's names, and the precedence.
@Suite("CommandSecret")
struct CommandSecretTests {
    let names = CommandSecret.Names(
        option: "--token", fileOption: "--token-file", environmentVariable: "REPRO_TOKEN", noun: "the key")

    @Test("an option wins over the environment, the file's content is trimmed, an empty variable is unset")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("  from-file  \n".utf8).write(to: file)
        chmod(file.path, 0o600)
        let fromFile = try CommandSecret.resolve(commandLine: nil, file: file.path, environment: ["REPRO_TOKEN": "env"], names: names)
        #expect(fromFile == CommandSecret(value: "from-file", origin: .file, warnings: []))
        let fromOption = try #require(
            try CommandSecret.resolve(commandLine: "opt", file: nil, environment: ["REPRO_TOKEN": "env"], names: names))
        #expect(fromOption.value == "opt" && fromOption.origin == .commandLine)
        #expect(fromOption.warnings.first?.contains("REPRO_TOKEN") == true)
        #expect(try CommandSecret.resolve(commandLine: nil, file: nil, environment: ["REPRO_TOKEN": "env"], names: names)?.value == "env")
        #expect(try CommandSecret.resolve(commandLine: nil, file: nil, environment: ["REPRO_TOKEN": ""], names: names) == nil)
    }

    @Test("an unreadable or empty file, or both options, is an error naming what is at fault")
    func errors() throws {
        let missing = #expect(throws: CommandSecretError.self) {
            try CommandSecret.resolve(commandLine: nil, file: "/nonexistent/key", environment: [:], names: names)
        }
        #expect(missing?.description.contains("--token-file /nonexistent/key") == true)
        let both = #expect(throws: CommandSecretError.self) {
            try CommandSecret.resolve(commandLine: "a", file: "/b", environment: [:], names: names)
        }
        #expect(both?.description.contains("not both") == true)
    }
}
