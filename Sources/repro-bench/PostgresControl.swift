import Foundation

/// The benchmark's hold on its throwaway PostgreSQL server: an immediate restart, the crash of
/// issue 10 (every backend ends at once, no checkpoint, crash recovery at the next start).
struct PostgresControl: Sendable {
    /// The cluster's data directory.
    let dataDirectory: String
    /// The folder of pg_ctl.
    let binDirectory: String
    /// The server's log; pg_ctl must send the new server's output somewhere other than our pipe, or
    /// reading pg_ctl's output would wait for the server to end.
    let logFile: String

    /// `pg_ctl restart -m immediate -w`, as the data directory's owner (PostgreSQL refuses root).
    /// Returns how long the restart took, until the server accepted connections again.
    func restartImmediately() async throws -> Duration {
        let start = ContinuousClock.now
        let owner = try FileManager.default.attributesOfItem(atPath: dataDirectory)[.ownerAccountName] as? String
        let pgCtl = [
            "\(binDirectory)/pg_ctl", "-D", dataDirectory, "-l", logFile, "-m", "immediate", "-w", "-t", "60",
            "restart",
        ]
        if getuid() == 0, let owner, owner != "root" {
            _ = try await ChildProcess.run("runuser", arguments: ["-u", owner, "--"] + pgCtl)
        } else {
            _ = try await ChildProcess.run(pgCtl[0], arguments: Array(pgCtl.dropFirst()))
        }
        return ContinuousClock.now - start
    }
}
