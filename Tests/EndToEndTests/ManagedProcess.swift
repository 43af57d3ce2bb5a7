import Foundation

/// A child process of a test (coordinator, worker, CLI) with its output in a log file, so a failing
/// test can print what each process said.
final class ManagedProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; every use after `launch` is a signal or a wait, which
    // Foundation documents as safe from any thread.
    let name: String
    let log: URL
    private let process = Process()

    init(name: String, executable: URL, arguments: [String], environment: [String: String] = [:], logDirectory: URL) throws {
        self.name = name
        self.log = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        process.environment = merged
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32 { process.terminationStatus }

    /// SIGTERM: a graceful stop.
    func terminate() { if process.isRunning { kill(pid, SIGTERM) } }

    /// SIGKILL: a crash.
    func kill9() { if process.isRunning { kill(pid, SIGKILL) } }

    /// Waits for the process to end, up to `timeout`; true when it ended.
    @discardableResult
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !process.isRunning
    }

    /// The log so far.
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// Where the package's executables and files are.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The folder with `repro-coordinator`, `repro-worker` and `repro` (`$REPRO_BIN_DIR`, else
    /// `.build/debug`).
    static var binaries: URL {
        if let dir = ProcessInfo.processInfo.environment["REPRO_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return repository.appendingPathComponent(".build/debug")
    }

    static func binary(_ name: String) -> URL { binaries.appendingPathComponent(name) }

    static var migrations: URL { repository.appendingPathComponent("migrations") }
    static var example: URL { repository.appendingPathComponent("worker/examples/sklearn-mlp") }

    /// Bundles and virtualenvs shared by test runs on one machine (the scikit-learn install is the
    /// slow part of a first run): `$REPRO_TEST_CACHE_DIR`, else a folder under /tmp.
    static var sharedCache: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["REPRO_TEST_CACHE_DIR"] ?? "/tmp/reprogrid-test-cache")
    }

    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = URL(fileURLWithPath: "/tmp/\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A TCP port nobody listens on right now.
    static func freePort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
