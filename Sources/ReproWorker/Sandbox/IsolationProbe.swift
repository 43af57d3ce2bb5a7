import Foundation
import Logging
import ReproClient
import ReproCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `repro-worker --check-isolation`: runs the hostile probe (``script``) as two real jobs through the
/// worker's own task path, next to decoys of everything a job must not reach (a token file, a key
/// file, a listening "coordinator" port and "database" socket, the other job), and reports per
/// attack whether it was blocked.
///
/// No coordinator is involved: the probe's bundle is put into the local bundle cache first, so the
/// executor never downloads it.
public enum IsolationProbe {
    /// One attack and whether it worked.
    public struct Finding: Sendable, Equatable {
        public var attack: String
        public var description: String
        public var succeeded: Bool
    }

    /// The findings, and whether every attack was blocked.
    public struct Report: Sendable {
        public var isolation: IsolationLevel
        public var findings: [Finding]
        public var passed: Bool { !findings.isEmpty && findings.allSatisfy { !$0.succeeded } }

        /// A table for a terminal.
        public var table: String {
            let width = findings.map(\.description.count).max() ?? 0
            var lines = ["Isolation check (--isolation \(isolation.rawValue)): what a hostile job could do here", ""]
            for finding in findings {
                let padded = finding.description.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append("  \(padded)  \(finding.succeeded ? "EXPOSED" : "blocked")")
            }
            lines.append("")
            lines.append(
                passed
                    ? "Every attack was blocked."
                    : "\(findings.filter(\.succeeded).count) of \(findings.count) attacks worked: do not run strangers' code like this.")
            return lines.joined(separator: "\n")
        }
    }

    /// What each metric of the probe means, in the order the table lists them.
    static let attacks: [(String, String)] = [
        ("attack_token_file", "read the worker's token file"),
        ("attack_cmdline_key", "read a key from the worker's command line"),
        ("attack_worker_environ", "read the worker's environment"),
        ("attack_signal_worker", "signal the worker process"),
        ("attack_key_file", "read a key file of the worker's user"),
        ("attack_shadow", "read /etc/shadow"),
        ("attack_root_uid", "run as root"),
        ("attack_home_visible", "list /root or /home"),
        ("attack_other_job", "overwrite another running job's metrics"),
        ("attack_venv_write", "write into the shared virtualenv"),
        ("attack_coordinator", "connect to the coordinator's port"),
        ("attack_database", "connect to the database"),
    ]

    /// Runs the check in `workDirectory` (made afresh) and returns the findings.
    public static func run(
        isolation: IsolationLevel, workDirectory: URL, python: String?, logger: Logger
    ) async throws -> Report {
        try? VirtualEnvSeal.remove(workDirectory)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        chmod(workDirectory.path, 0o755)
        let cacheDirectory = WorkerConfiguration(
            coordinatorURL: "", token: "", workDirectory: workDirectory).cacheDirectory
        try WorkerCredentials(coordinator: "check", workerID: UUID(), token: "decoy-token").save(in: workDirectory)
        let keyFile = workDirectory.appendingPathComponent("private/coordinator.key")
        try ContentCache.writeDurably(Data("decoy-key\n".utf8), to: keyFile, mode: 0o600)
        let coordinator = try DecoyListener.tcp()
        let database = try DecoyListener.unix(workDirectory.appendingPathComponent("database.sock").path)
        defer {
            coordinator.stop()
            database.stop()
        }
        let nonce = UUID().uuidString.lowercased().prefix(12)
        let targets: [String: Any] = [
            "token_file": WorkerCredentials.file(in: workDirectory).path, "key_file": keyFile.path,
            "work_dir": workDirectory.path, "cache_dir": cacheDirectory.path,
            "spool_dir": workDirectory.appendingPathComponent("spool").path,
            "jobs_dir": workDirectory.appendingPathComponent("jobs").path, "nonce": String(nonce),
            "coordinator_host": "127.0.0.1", "coordinator_port": coordinator.port, "database_socket": database.path,
            "neighbour_wait_seconds": 4, "linger_seconds": 2,
        ]
        let runner = try await LocalBundleRunner.prepare(
            isolation: isolation, workDirectory: workDirectory, python: python,
            files: [
                "probe.py": Data((script + "\n").utf8),
                "targets.json": try JSONSerialization.data(withJSONObject: targets, options: [.sortedKeys]),
                "requirements.txt": Data("# the probe needs no packages; the environment is still built and sealed\n".utf8),
            ],
            requirements: "requirements.txt", slots: 2, logger: logger)
        let results = await withTaskGroup(of: TaskResult.self) { group in
            for seed in 0..<2 {
                group.addTask { await runner.run(["python", "probe.py"], seed: Int64(seed)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let leftovers = HostProcesses.matching("repro-probe-\(nonce)")
        for pid in leftovers { kill(pid, SIGKILL) }
        // Whether a marker landed can only be seen from here (a sandbox has its own /tmp).
        let markerName = "repro-probe-\(nonce)"
        let hostMarker = FileManager.default.fileExists(atPath: "/tmp/\(markerName)")
        let folders = [workDirectory, cacheDirectory, workDirectory.appendingPathComponent("spool"),
                       workDirectory.appendingPathComponent("jobs")]
        let markersInFolders = folders.map { $0.appendingPathComponent(markerName).path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        for path in markersInFolders + ["/tmp/\(markerName)"] { unlink(path) }

        var findings: [Finding] = []
        for (metric, description) in attacks {
            let worked = results.contains { ($0.metrics[metric] ?? 0) > 0 }
            findings.append(Finding(attack: metric, description: description, succeeded: worked))
        }
        for result in results where result.outcome != .succeeded {
            findings.append(
                Finding(attack: "probe_failed", description: "probe job failed: \(result.error ?? "?")", succeeded: true))
        }
        findings.append(
            Finding(
                attack: "forged_result", description: "a neighbour's forged value in an accepted result",
                succeeded: results.contains { ($0.metrics["own_value"] ?? 1) != 1 }))
        findings.append(
            Finding(attack: "write_outside", description: "write into the worker's folders", succeeded: !markersInFolders.isEmpty))
        findings.append(Finding(attack: "host_tmp", description: "write into the host's /tmp", succeeded: hostMarker))
        findings.append(
            Finding(attack: "leftover", description: "leave a process running after the job", succeeded: !leftovers.isEmpty))
        return Report(isolation: isolation, findings: findings)
    }
}
