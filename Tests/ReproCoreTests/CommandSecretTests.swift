import Foundation
import Logging
import ReproCore
import Testing

@Suite("CommandSecret")
struct CommandSecretTests {
    let logger = Logger(label: "test")

    func read(option: String? = nil, file: String? = nil, environment: [String: String] = [:]) throws -> String? {
        try CommandSecret.read(
            option: option, optionName: "--token", file: file, fileOptionName: "--token-file",
            environmentName: "REPRO_TOKEN", environment: environment, logger: logger)
    }

    @Test("the option wins, then the file's first line, then the environment")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("  from-file  \nsecond line\n".utf8).write(to: file)
        #expect(try read(option: "from-option", file: file.path, environment: ["REPRO_TOKEN": "env"]) == "from-option")
        #expect(try read(file: file.path, environment: ["REPRO_TOKEN": "env"]) == "from-file")
        #expect(try read(environment: ["REPRO_TOKEN": "env"]) == "env")
        #expect(try read() == nil)
    }

    @Test("an unreadable or empty file is an error naming the file")
    func badFile() throws {
        let missing = "/nonexistent/secret"
        let error = #expect(throws: CommandSecretError.self) { try read(file: missing) }
        #expect(error?.description.contains(missing) == true)

        let empty = FileManager.default.temporaryDirectory.appending(path: "secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: empty) }
        try Data("\n".utf8).write(to: empty)
        let emptyError = #expect(throws: CommandSecretError.self) { try read(file: empty.path) }
        #expect(emptyError?.description.contains("line 1") == true)
    }
}
