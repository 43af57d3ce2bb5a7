import Foundation
import Logging
import Synchronization
import Testing

@testable import ReproWorker

#if canImport(Glibc)
    import Glibc
#endif

@Suite("JobRunner")
struct JobRunnerTests {
    @Test("exit status is reported", arguments: [0, 1, 3, 255])
    func exitStatus(code: Int32) async throws {
        let outcome = try await JobRunner(job: .shell("exit \(code)"), logger: .test).run()
        #expect(outcome.termination == .exited(code))
        #expect(outcome.succeeded == (code == 0))
        #expect(!outcome.timedOut && !outcome.cancelled)
    }

    @Test("death by signal is reported as the signal")
    func signalled() async throws {
        let outcome = try await JobRunner(job: .shell("kill -9 $$"), logger: .test).run()
        #expect(outcome.termination == .signalled(SIGKILL))
        #expect(!outcome.succeeded)
    }

    @Test("stdout and stderr arrive as lines, in order, and in the tail")
    func printsLines() async throws {
        let lines = LineRecorder()
        let outcome = try await JobRunner(
            job: .shell("echo one; echo two >&2; printf 'three\\r\\nfour'"),
            logger: .test
        )
        .run(onOutputLine: lines.record)
        #expect(lines.lines == ["one", "two", "three", "four"])
        #expect(outcome.outputTail == "one\ntwo\nthree\r\nfour")
        #expect(outcome.outputByteCount == 19)
        #expect(!outcome.outputTruncated)
    }

    @Test("lines are streamed while the job still runs")
    func streamsLines() async throws {
        // The job waits (up to 60 s) for a file that only the handler of its
        // first line creates: it can finish early only if that line arrived
        // while it was still running. No timing assumptions about a busy machine.
        let directory = try TemporaryDirectory()
        let signal = directory.url.appending(path: "first-line-seen").path
        let script =
            "echo first; i=0; while [ ! -e '\(signal)' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
            + "[ -e '\(signal)' ] && echo seen-while-running"
        let lines = LineRecorder()
        let outcome = try await JobRunner(job: .shell(script), logger: .test).run { line in
            lines.record(line)
            if line == "first" { _ = FileManager.default.createFile(atPath: signal, contents: nil) }
        }
        #expect(outcome.termination == .exited(0))
        #expect(lines.lines == ["first", "seen-while-running"])
    }

    @Test("a job over its time limit is stopped with its whole process group")
    func timeoutKillsGrandchild() async throws {
        let lines = LineRecorder()
        let job = JobRunner.Job.shell(
            "sleep 100 & echo grandchild=$!; sleep 100",
            timeLimit: .seconds(1)
        )
        let outcome = try await JobRunner(job: job, logger: .test).run(onOutputLine: lines.record)
        #expect(outcome.timedOut)
        #expect(!outcome.cancelled)
        #expect(outcome.termination == .signalled(SIGTERM))
        #expect(outcome.duration >= .seconds(1) && outcome.duration < .seconds(60))
        let grandchild = try #require(lines.grandchildPID)
        #expect(await processIsGone(grandchild))
    }

    @Test("a job that ignores SIGTERM gets SIGKILL after the grace period")
    func escalatesToSigkill() async throws {
        let job = JobRunner.Job.shell(
            "trap '' TERM; sleep 100 & echo grandchild=$!; while :; do sleep 1; done",
            timeLimit: .seconds(1),
            grace: .seconds(1)
        )
        let lines = LineRecorder()
        let outcome = try await JobRunner(job: job, logger: .test).run(onOutputLine: lines.record)
        #expect(outcome.timedOut)
        #expect(outcome.termination == .signalled(SIGKILL))
        // Far below the job's endless loop, far above the 2 s it takes: not a timing claim, a machine
        // starved for a while (the whole suite on 2 cores) must not fail it.
        #expect(outcome.duration >= .seconds(2) && outcome.duration < .seconds(60))
        #expect(await processIsGone(try #require(lines.grandchildPID)))
    }

    @Test("cancel() stops the job and its grandchildren")
    func cancelKillsGroup() async throws {
        // A time limit far beyond the bound below, so a stalled moment cannot end it by time instead.
        let runner = JobRunner(
            job: .shell("sleep 100 & echo grandchild=$!; sleep 100", timeLimit: .seconds(90)), logger: .test)
        let lines = LineRecorder()
        let started = ContinuousClock.now
        let outcome = try await runner.run { line in
            lines.record(line)
            runner.cancel()
        }
        #expect(outcome.cancelled)
        #expect(!outcome.timedOut)
        #expect(outcome.termination == .signalled(SIGTERM))
        // Not a speed check: the job sleeps 100 s, so ending well before that shows it was stopped
        // (the margin is wide because a loaded CI machine can be slow).
        #expect(started.duration(to: .now) < .seconds(60))
        #expect(await processIsGone(try #require(lines.grandchildPID)))
    }

    @Test("cancelling the task stops the job and its grandchildren")
    func taskCancellationKillsGroup() async throws {
        // A time limit far beyond the bound below, so a stalled moment cannot end it by time instead.
        let runner = JobRunner(
            job: .shell("sleep 100 & echo grandchild=$!; sleep 100", timeLimit: .seconds(90)), logger: .test)
        let lines = LineRecorder()
        let task = Task { try await runner.run(onOutputLine: lines.record) }
        while lines.grandchildPID == nil {
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        let outcome = try await task.value
        #expect(outcome.cancelled)
        #expect(outcome.termination == .signalled(SIGTERM))
        #expect(await processIsGone(try #require(lines.grandchildPID)))
    }

    @Test("cancel() before run makes run throw CancellationError without starting")
    func cancelBeforeRun() async throws {
        let runner = JobRunner(job: .shell("echo should-not-run"), logger: .test)
        runner.cancel()
        await #expect(throws: CancellationError.self) { try await runner.run() }
    }

    @Test("processes left behind by a finished job are killed and do not hold up the result")
    func leftoversKilledAtExit() async throws {
        let lines = LineRecorder()
        let outcome = try await JobRunner(job: .shell("sleep 100 & echo grandchild=$!"), logger: .test)
            .run(onOutputLine: lines.record)
        #expect(outcome.termination == .exited(0))
        // The leftover sleeps 100 s: ending well before it shows it did not hold the result up.
        #expect(outcome.duration < .seconds(60))
        #expect(await processIsGone(try #require(lines.grandchildPID)))
    }

    @Test("a process that leaves the group cannot hold the result up beyond the grace period")
    func escapedProcessDoesNotBlock() async throws {
        // setsid puts the sleeper in a new session, out of reach of group
        // signals; it keeps the pipe open, so reading stops by deadline.
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid"))
        let lines = LineRecorder()
        let started = ContinuousClock.now
        let outcome = try await JobRunner(
            job: .shell("/usr/bin/setsid sleep 120 & echo escaped=$!; echo done", grace: .seconds(1)),
            logger: .test
        ).run(onOutputLine: lines.record)
        #expect(outcome.termination == .exited(0))
        #expect(lines.lines.contains("done"))
        // The escaped sleeper holds the pipe for 120 s; ending well before that shows the deadline worked.
        #expect(started.duration(to: .now) < .seconds(90))
        if let escaped = lines.value(after: "escaped=") {
            kill(escaped, SIGKILL)
        }
    }

    @Test("only the last bytes of a long output are kept")
    func outputTailTruncation() async throws {
        let lines = LineRecorder()
        let outcome = try await JobRunner(
            job: .shell("head -c 300000 /dev/zero | tr '\\0' x; echo; echo last-line"),
            logger: .test
        ).run(onOutputLine: lines.record)
        #expect(outcome.outputTruncated)
        #expect(outcome.outputByteCount == 300_000 + 1 + 10)
        #expect(outcome.outputTail.utf8.count == 64 * 1024)
        #expect(outcome.outputTail.hasSuffix("xxx\nlast-line\n"))
        // The 300 000-byte line arrives in bounded pieces.
        #expect(lines.lines.allSatisfy { $0.utf8.count <= OutputPump.maximumLineLength })
        #expect(lines.lines.map(\.utf8.count).reduce(0, +) == 300_000 + 9)
        #expect(lines.lines.last == "last-line")
    }

    @Test("the tail limit is configurable and cuts at a character boundary")
    func customTailLimit() async throws {
        var job = JobRunner.Job.shell("printf 'ééééé'")
        job.outputTailLimit = 5
        let outcome = try await JobRunner(job: job, logger: .test).run()
        #expect(outcome.outputTruncated)
        #expect(outcome.outputTail == "éé")
    }

    @Test("the job sees exactly the environment it is given")
    func environmentPassedThrough() async throws {
        let lines = LineRecorder()
        let job = JobRunner.Job(
            executable: "/usr/bin/env",
            workingDirectory: URL(filePath: "/"),
            environment: ["REPRO_SEED": "7", "SPACED": "two words", "EMPTY": ""],
            timeLimit: .seconds(10)
        )
        _ = try await JobRunner(job: job, logger: .test).run(onOutputLine: lines.record)
        #expect(Set(lines.lines) == ["REPRO_SEED=7", "SPACED=two words", "EMPTY="])
    }

    @Test("the job starts in its working directory with stdin at EOF")
    func workingDirectory() async throws {
        let directory = try TemporaryDirectory()
        let lines = LineRecorder()
        var job = JobRunner.Job.shell("pwd; cat; echo end")
        job.workingDirectory = directory.url
        let outcome = try await JobRunner(job: job, logger: .test).run(onOutputLine: lines.record)
        #expect(outcome.termination == .exited(0))
        #expect(lines.lines == [directory.url.path, "end"])
    }

    @Test("a bare executable name is looked up on the job's PATH, not the worker's")
    func lookupOnJobPath() async throws {
        let directory = try TemporaryDirectory()
        let script = directory.url.appending(path: "hello-repro")
        try "#!/bin/sh\necho hello from $0\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let lines = LineRecorder()
        let job = JobRunner.Job(
            executable: "hello-repro",
            workingDirectory: URL(filePath: "/"),
            environment: ["PATH": "/nonexistent:\(directory.url.path)"],
            timeLimit: .seconds(10)
        )
        _ = try await JobRunner(job: job, logger: .test).run(onOutputLine: lines.record)
        #expect(lines.lines == ["hello from \(script.path)"])

        let missing = JobRunner.Job(
            executable: "hello-repro",
            workingDirectory: URL(filePath: "/"),
            environment: ["PATH": "/usr/bin"],
            timeLimit: .seconds(10)
        )
        let error = await #expect(throws: JobRunnerError.self) {
            try await JobRunner(job: missing, logger: .test).run()
        }
        #expect(error?.code == .executableNotFound)
        #expect(error?.message == "hello-repro was not found on the job's PATH (/usr/bin)")
    }

    @Test("a missing working directory is a clear error")
    func missingWorkingDirectory() async throws {
        var job = JobRunner.Job.shell("true")
        job.workingDirectory = URL(filePath: "/nonexistent/repro")
        let error = await #expect(throws: JobRunnerError.self) { try await JobRunner(job: job, logger: .test).run() }
        #expect(error?.code == .workingDirectoryNotFound)
        #expect(error?.message.contains("/nonexistent/repro") == true)
    }

    @Test("a runner runs its job once")
    func runsOnce() async throws {
        let runner = JobRunner(job: .shell("true"), logger: .test)
        _ = try await runner.run()
        let error = await #expect(throws: JobRunnerError.self) { try await runner.run() }
        #expect(error?.code == .alreadyStarted)
    }

    @Test("the memory limit becomes the job's RLIMIT_AS")
    func memoryLimitIsSet() async throws {
        var job = JobRunner.Job.shell("ulimit -v; echo pid=$$")
        job.memoryLimitBytes = 300 * 1024 * 1024
        let lines = LineRecorder()
        let outcome = try await JobRunner(job: job, logger: .test).run(onOutputLine: lines.record)
        #expect(outcome.termination == .exited(0))
        #expect(lines.lines.first == "307200")
    }

    @Test("a job over its memory limit fails instead of taking the machine's memory")
    func memoryLimitEnforced() async throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var job = JobRunner.Job(
            executable: "python3",
            arguments: ["-c", "x = bytearray(1024 * 1024 * 1024); print('allocated')"],
            workingDirectory: URL(filePath: "/"),
            environment: ["PATH": path],
            timeLimit: .seconds(30)
        )
        job.memoryLimitBytes = 256 * 1024 * 1024
        let outcome = try await JobRunner(job: job, logger: .test).run()
        #expect(outcome.termination != .exited(0))
        #expect(outcome.outputTail.contains("MemoryError"))
        #expect(!outcome.outputTail.contains("allocated"))
    }

    @Test("wait statuses decode like the W* macros")
    func waitStatusDecoding() {
        #expect(ProcessGroup.termination(fromWaitStatus: 0) == .exited(0))
        #expect(ProcessGroup.termination(fromWaitStatus: 3 << 8) == .exited(3))
        #expect(ProcessGroup.termination(fromWaitStatus: 9) == .signalled(9))
        #expect(ProcessGroup.termination(fromWaitStatus: 0x80 | 11) == .signalled(11))
    }
}

extension JobRunner.Job {
    /// `/bin/sh -c script` in /tmp with a minimal PATH.
    static func shell(_ script: String, timeLimit: Duration = .seconds(20), grace: Duration = .seconds(2)) -> Self {
        .init(
            executable: "/bin/sh",
            arguments: ["-c", script],
            workingDirectory: URL(filePath: "/tmp"),
            environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
            timeLimit: timeLimit,
            terminationGracePeriod: grace
        )
    }
}

/// Collects output lines from the runner's callback.
final class LineRecorder: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    @Sendable func record(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    /// The pid printed as `grandchild=<pid>`.
    var grandchildPID: pid_t? { value(after: "grandchild=") }

    func value(after prefix: String) -> pid_t? {
        lines.first { $0.hasPrefix(prefix) }.flatMap { pid_t($0.dropFirst(prefix.count)) }
    }
}

/// Whether `pid` has ended within a few seconds. A zombie counts as ended:
/// the container's init may not reap orphans.
func processIsGone(_ pid: pid_t) async -> Bool {
    for _ in 0..<50 {
        if kill(pid, 0) == -1 && errno == ESRCH { return true }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ")
        {
            let state = stat[afterName.upperBound...].first
            if state == "Z" || state == "X" { return true }
        }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return false
}

extension Logger {
    static let test: Logger = {
        var logger = Logger(label: "repro.worker.tests")
        logger.logLevel = .debug
        return logger
    }()
}
