import Foundation

/// Runs a helper program (pgbench, psql) to completion and returns its standard output.
enum ChildProcess {
    /// Runs `program` (a path, or a name looked up on the PATH) and fails with its output on a non-zero exit.
    static func run(_ program: String, arguments: [String], environment: [String: String]? = nil) async throws -> String {
        let process = Process()
        if program.contains("/") {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [program] + arguments
        }
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read before waiting: a full pipe would otherwise block the child forever.
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw BenchError("\(program) exited with status \(process.terminationStatus):\n\(text)")
        }
        return text
    }
}
