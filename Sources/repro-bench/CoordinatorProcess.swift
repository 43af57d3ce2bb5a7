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

    /// Starts `executable` on `port` (default a free one) over `database` and returns once it answers
    /// `/readyz`. A restart passes the port and admin key of the process it replaces.
    static func start(
        executable: String, database: DatabaseURL, migrations: String, extra: [String], port: Int? = nil,
        adminKey: String? = nil
    ) async throws -> CoordinatorProcess {
        let port = try port ?? FreePort.pick()
        let adminKey = adminKey ?? APIKey.generate()
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
        _ = terminate(within: .seconds(30))
    }

    /// SIGTERM, then waits up to `limit`; returns how long the process took to end, or nil when it
    /// was still running at the limit (it is then killed with SIGKILL, so no process outlives the run).
    func terminate(within limit: Duration) -> Duration? {
        let start = ContinuousClock.now
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while ContinuousClock.now - start < limit {
            if waitpid(pid, &status, WNOHANG) == pid { return ContinuousClock.now - start }
            usleep(20_000)
        }
        kill9()
        return nil
    }

    /// SIGKILL, as a crash would, and reaps the process.
    func kill9() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
