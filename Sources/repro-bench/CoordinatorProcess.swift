import Foundation
import ReproClient
import ReproCoordinator

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A `repro-coordinator serve` of its own process, for figures that must be the coordinator's alone
/// (its memory): the in-process coordinator would share its address space with the load generator.
struct CoordinatorProcess: Sendable {
    let pid: pid_t
    let baseURL: String
    let adminKey: String
    let log: String

    /// Starts `executable` on a free port over `database` and returns once it answers `/readyz`.
    static func start(executable: String, database: DatabaseURL, migrations: String, extra: [String]) async throws
        -> CoordinatorProcess
    {
        let port = try FreePort.pick()
        let adminKey = APIKey.generate()
        let log = "/tmp/repro-bench-coordinator-\(port).log"
        let pid = try ChildProcess.start(
            executable,
            arguments: [
                "serve", "--database-url", database.urlString, "--port", "\(port)", "--migrations-dir", migrations,
                "--admin-key", adminKey, "--log-level", "warning",
            ] + extra, log: log)
        let process = CoordinatorProcess(pid: pid, baseURL: "http://127.0.0.1:\(port)", adminKey: adminKey, log: log)
        let probe = CoordinatorClient(baseURL: process.baseURL, key: nil)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await probe.send(.GET, "/readyz")) != nil { return process }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.stop()
        throw BenchError("\(executable) did not become ready within 60 s; see \(log)")
    }

    /// Resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM` of /proc/PID/status).
    func memory() throws -> (resident: Int, peak: Int) {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// SIGTERM, then waits for the process to end (SIGKILL after 30 s).
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<300 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }
}
