import Foundation
import Logging
import Testing

@testable import ReproWorker

/// The sandbox on this machine, with real bubblewrap: each test runs a small shell job under the
/// strict job policy and checks from the host what it could and could not do. (The hostile
/// end-to-end test runs the full attack list through a real worker.)
@Suite("SandboxLauncher", .serialized)
struct SandboxLauncherTests {
    let directory: TemporaryDirectory
    let launcher: SandboxLauncher
    let jobFolder: URL

    init() async throws {
        directory = try TemporaryDirectory()
        chmod(directory.url.path, 0o755)
        launcher = try await SandboxLauncher.prepare(workDirectory: directory.url, logger: Logger(label: "test"))
        jobFolder = directory.url.appending(path: "jobs/one")
        try JobFolder(jobs: directory.url.appending(path: "jobs"), leaseID: UUID()).create(for: nil)
        try FileManager.default.createDirectory(at: jobFolder, withIntermediateDirectories: true)
        if launcher.user.switchesUser {
            chown(jobFolder.path, launcher.user.uid, launcher.user.gid)
        }
    }

    /// Runs `script` with /bin/sh in the job folder under the job policy; returns the outcome.
    func run(_ script: String, network: Bool = false, readOnly: [String] = []) async throws -> JobRunner.Outcome {
        let policy = launcher.jobPolicy(
            workingDirectory: jobFolder.path, readOnly: readOnly, writable: [jobFolder.path], network: network,
            gpuIndices: [])
        let job = JobRunner.Job(
            executable: "/bin/sh", arguments: ["-c", script], workingDirectory: jobFolder,
            environment: ["PATH": "/usr/bin:/bin"].merging(policy.environment) { $1 }, timeLimit: .seconds(30),
            launcher: launcher.launcher(for: policy), launcherReportsSignalsAsStatus: true)
        return try await JobRunner(job: job, logger: Logger(label: "test")).run()
    }

    @Test("a job writes its own folder, as an unprivileged user on the host")
    func writesOwnFolderUnprivileged() async throws {
        let outcome = try await run("id -u > own.txt && echo done")
        #expect(outcome.succeeded, "\(outcome.outputTail)")
        var info = stat()
        #expect(stat(jobFolder.appending(path: "own.txt").path, &info) == 0)
        #expect(info.st_uid != 0, "the file a job writes belongs to the job user, not root")
        #expect(info.st_uid == launcher.user.uid)
        let inside = try String(contentsOf: jobFolder.appending(path: "own.txt"), encoding: .utf8)
        #expect(inside.trimmingCharacters(in: .whitespacesAndNewlines) != "0")
    }

    @Test("nothing outside the job folder is writable or even visible")
    func nothingElseWritable() async throws {
        let secret = directory.url.appending(path: "private-token")
        try Data("secret".utf8).write(to: secret)
        let outcome = try await run(
            """
            for target in /usr/x /etc/x /x /home/x; do
                if echo x > "$target" 2>/dev/null; then echo "WROTE $target"; fi
            done
            # The test's folder is under /tmp, which in the sandbox is the job's own: a write there
            # lands in the job's private /tmp, never on the host (checked below).
            echo x > \(directory.url.path)/x 2>/dev/null
            for target in /etc/shadow \(secret.path) /root /home; do
                if ls "$target" >/dev/null 2>&1; then echo "SAW $target"; fi
            done
            echo private > /tmp/mine && cat /tmp/mine
            """)
        #expect(outcome.succeeded, "\(outcome.outputTail)")
        #expect(!outcome.outputTail.contains("WROTE"), "\(outcome.outputTail)")
        #expect(!outcome.outputTail.contains("SAW"), "\(outcome.outputTail)")
        // /tmp works, and is the job's own.
        #expect(outcome.outputTail.contains("private"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appending(path: "x").path))
    }

    @Test("no network: a port listening on the host's loopback cannot be reached")
    func noNetwork() async throws {
        let listener = try DecoyListener.tcp()
        defer { listener.stop() }
        let probe = "import socket; s = socket.socket(); s.settimeout(2); print('RESULT', s.connect_ex(('127.0.0.1', \(listener.port))))"
        let closed = try await run("python3 -c \"\(probe)\"")
        #expect(closed.outputTail.contains("RESULT") && !closed.outputTail.contains("RESULT 0"), "\(closed.outputTail)")
        // The same job with the network allowed reaches it: the namespace is what blocks.
        let open = try await run("python3 -c \"\(probe)\"", network: true)
        #expect(open.outputTail.contains("RESULT 0"), "\(open.outputTail)")
    }

    @Test("a process that leaves the session dies with the job")
    func leftoverDies() async throws {
        // A unique duration is the marker to find the process by on the host.
        let marker = "3000.\(Int.random(in: 100_000...999_999))"
        let outcome = try await run("setsid sleep \(marker) </dev/null >/dev/null 2>&1 & sleep 0.3; echo started")
        #expect(outcome.succeeded, "\(outcome.outputTail)")
        let left = HostProcesses.matching(marker)
        #expect(left.isEmpty, "still running: \(left)")
        for pid in left { kill(pid, SIGKILL) }
    }

    @Test("a job killed by a signal is reported as that signal, not as exit status 128 + N")
    func signalsComeThrough() async throws {
        let outcome = try await run("kill -9 $$")
        #expect(outcome.termination == .signalled(9))
    }
}
