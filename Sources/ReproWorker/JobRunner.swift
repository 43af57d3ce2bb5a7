import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs one job (one training run) as a killable process group with a time
/// limit, an optional memory limit and its output streamed line by line.
///
/// ```swift
/// let runner = JobRunner(job: job, logger: logger)
/// let outcome = try await runner.run { line in progress(line) }
/// ```
///
/// The child leads its own process group, so a timeout or a cancellation ends
/// everything the job started: SIGTERM to the group, then SIGKILL after
/// ``Job/terminationGracePeriod``. When the child exits on its own, processes
/// it left behind in its group are killed too: a job never outlives its run.
/// Only a process that deliberately leaves the group (`setsid`) escapes;
/// containing those needs cgroups, which the worker cannot assume it has.
///
/// Nothing here blocks the cooperative thread pool: one dedicated thread
/// reads the output and another waits for the child.
public final class JobRunner: Sendable {
    /// What to run and under which limits.
    public struct Job: Sendable {
        /// An absolute path, a path relative to ``workingDirectory``, or a
        /// name looked up on the `PATH` of ``environment`` (not the worker's).
        public var executable: String
        /// The arguments after the program name.
        public var arguments: [String]
        /// The directory the job starts in; it must exist.
        public var workingDirectory: URL
        /// The job's complete environment. Nothing of the worker's is added.
        public var environment: [String: String]
        /// Wall-clock limit, counted from the start of the process.
        public var timeLimit: Duration
        /// Limit on the job's virtual address space (`RLIMIT_AS`), or nil for none.
        ///
        /// Set through `/bin/sh -c 'ulimit -v …; exec "$@"'`: `posix_spawn` has
        /// no hook to call `setrlimit` in the child, forking a Swift process to
        /// call it is unsafe, setting it on the worker would limit the worker,
        /// and `prlimit` on the child after the spawn races with its first
        /// allocations. The shell sets the limit and `exec`s the job, which
        /// keeps the pid and the process group. Address space is not resident
        /// memory: CUDA and some runtimes reserve far more than they use, so
        /// leave this nil for GPU jobs.
        public var memoryLimitBytes: Int?
        /// A program and its arguments that start the job (a sandbox: `setpriv … bwrap … --`),
        /// with the resolved executable and ``arguments`` appended. Empty: the job runs directly.
        public var launcher: [String]
        /// The launcher reports a job killed by signal N as exit status 128 + N, as bubblewrap and
        /// shells do; read such statuses back as signals.
        public var launcherReportsSignalsAsStatus: Bool
        /// How many bytes of combined stdout and stderr to keep (the last ones).
        public var outputTailLimit: Int
        /// Time between SIGTERM and SIGKILL when the job is stopped.
        public var terminationGracePeriod: Duration

        /// Creates a job; see the properties for each parameter.
        public init(
            executable: String,
            arguments: [String] = [],
            workingDirectory: URL,
            environment: [String: String],
            timeLimit: Duration,
            memoryLimitBytes: Int? = nil,
            launcher: [String] = [],
            launcherReportsSignalsAsStatus: Bool = false,
            outputTailLimit: Int = 64 * 1024,
            terminationGracePeriod: Duration = .seconds(2)
        ) {
            self.executable = executable
            self.arguments = arguments
            self.workingDirectory = workingDirectory
            self.environment = environment
            self.timeLimit = timeLimit
            self.memoryLimitBytes = memoryLimitBytes
            self.launcher = launcher
            self.launcherReportsSignalsAsStatus = launcherReportsSignalsAsStatus
            self.outputTailLimit = outputTailLimit
            self.terminationGracePeriod = terminationGracePeriod
        }
    }

    /// How the job's process ended.
    public enum Termination: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "signal \(signal)"
            }
        }
    }

    /// The result of a job that started.
    public struct Outcome: Sendable {
        /// How the process ended.
        public var termination: Termination
        /// The worker stopped the job because it reached its time limit.
        public var timedOut: Bool
        /// The worker stopped the job because it was cancelled.
        public var cancelled: Bool
        /// Wall-clock time from start to exit.
        public var duration: Duration
        /// The end of the combined stdout and stderr, at most ``Job/outputTailLimit`` bytes.
        public var outputTail: String
        /// How many bytes the job wrote in all.
        public var outputByteCount: Int
        /// Whether the beginning of the output was dropped from ``outputTail``.
        public var outputTruncated: Bool

        /// The job exited with status 0 and was not stopped.
        public var succeeded: Bool {
            termination == .exited(0) && !timedOut && !cancelled
        }
    }

    private enum Phase {
        case notStarted
        case starting
        case running(ProcessGroup)
        case finished
    }

    private struct State {
        var phase = Phase.notStarted
        var cancelRequested = false
    }

    /// The job this runner runs.
    public let job: Job
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a runner for one job; call ``run(onOutputLine:)`` once.
    public init(job: Job, logger: Logger) {
        self.job = job
        self.logger = logger
    }

    /// Runs the job to its end and returns how it ended.
    ///
    /// - Parameter onOutputLine: called with each line of combined output, in
    ///   order, as it arrives. While it is busy the runner stops reading, so
    ///   a slow handler slows the job rather than filling the worker's memory.
    /// - Throws: ``JobRunnerError`` if the job cannot start, `CancellationError`
    ///   if the runner or task was cancelled before it started. Once started,
    ///   cancellation stops the job and returns an outcome with `cancelled`.
    public func run(
        onOutputLine: @escaping @Sendable (String) async -> Void = { _ in }
    ) async throws -> Outcome {
        let argv = try commandLine()
        let started = try state.withLock { state throws -> Bool in
            guard case .notStarted = state.phase else {
                throw JobRunnerError(.alreadyStarted, "a JobRunner runs its job once")
            }
            state.phase = .starting
            return !state.cancelRequested
        }
        guard started, !Task.isCancelled else { throw CancellationError() }

        let pipe = try SpawnSymbols.makePipe()
        var startTime = ContinuousClock.now
        let process: ProcessGroup
        do {
            process = try await spawnRetryingBusyExecutable(argv: argv, outputFD: pipe.write, startTime: &startTime)
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        // Only the child may hold the write end, or the reader never sees EOF.
        close(pipe.write)
        var logger = logger
        logger[metadataKey: "repro.job.pid"] = "\(process.pid)"
        logger.debug("job started", metadata: ["repro.job.command": "\(argv.joined(separator: " "))"])

        let output = OutputPump(fd: pipe.read, tailLimit: job.outputTailLimit)
        output.start(name: "repro-job-output-\(process.pid)")
        let grace = job.terminationGracePeriod
        process.startWaiting {
            // Give the last output of processes outside the group a moment,
            // then stop reading even if they still hold the pipe.
            output.stopReading(at: .now + grace)
        }

        let cancelledMeanwhile = state.withLock { state -> Bool in
            state.phase = .running(process)
            return state.cancelRequested
        }
        let timer = DispatchWorkItem { [logger, timeLimit = job.timeLimit] in
            logger.notice(
                "job reached its time limit; stopping its process group",
                metadata: ["repro.job.time_limit_seconds": "\(timeLimit.inSeconds)"]
            )
            process.stop(reason: .timeLimit, grace: grace)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + job.timeLimit.dispatchInterval, execute: timer)
        if cancelledMeanwhile {
            process.stop(reason: .cancelled, grace: grace)
        }

        let (exit, tail) = await withTaskCancellationHandler {
            for await line in output.lines {
                await onOutputLine(line)
                output.lineConsumed()
            }
            return (await process.exitInfo, await output.tail)
        } onCancel: {
            self.cancel()
        }
        timer.cancel()
        state.withLock { $0.phase = .finished }
        var (termination, stopReason) = (exit.termination, exit.stopReason)
        if job.launcherReportsSignalsAsStatus, case .exited(let status) = termination, (129...192).contains(status) {
            termination = .signalled(status - 128)
        }
        // Until the exit, not until the output drained: that is the job's run time.
        let duration = startTime.duration(to: exit.time)

        let outcome = Outcome(
            termination: termination,
            timedOut: stopReason == .timeLimit,
            cancelled: stopReason == .cancelled,
            duration: duration,
            outputTail: tail.text,
            outputByteCount: tail.totalByteCount,
            outputTruncated: tail.isTruncated
        )
        logger.debug(
            "job ended",
            metadata: [
                "repro.job.termination": "\(termination)",
                "repro.job.duration_seconds": "\(duration.inSeconds)",
                "repro.job.stopped": "\(stopReason.map { "\($0)" } ?? "no")",
            ]
        )
        return outcome
    }

    /// Spawns the job, retrying briefly on ETXTBSY.
    ///
    /// A script or binary written just before the run (by this process or a
    /// test) can be briefly "busy": another thread's spawn may have inherited
    /// the writer's descriptor in the instant between its fork and exec.
    private func spawnRetryingBusyExecutable(
        argv: [String],
        outputFD: Int32,
        startTime: inout ContinuousClock.Instant
    ) async throws -> ProcessGroup {
        var attempt = 0
        while true {
            do {
                let (environment, workingDirectory) = (job.environment, job.workingDirectory.path)
                // The clock starts on the spawn thread, at the spawn: not while waiting for that thread.
                let (process, started) = try await SpawnThread.shared.run {
                    let started = ContinuousClock.now
                    let process = try ProcessGroup.spawn(
                        argv: argv, environment: environment, workingDirectory: workingDirectory, outputFD: outputFD)
                    return (process, started)
                }
                startTime = started
                return process
            } catch let error as JobRunnerError {
                guard error.errorNumber == ETXTBSY, attempt < 10 else { throw error }
                attempt += 1
                try await Task.sleep(for: .milliseconds(20 * attempt))
            }
        }
    }

    /// Stops the job: SIGTERM to its process group, SIGKILL after the grace
    /// period. Before ``run(onOutputLine:)`` starts the job, it makes `run`
    /// throw `CancellationError` instead; after the job ended, it does nothing.
    public func cancel() {
        let process = state.withLock { state -> ProcessGroup? in
            state.cancelRequested = true
            if case .running(let process) = state.phase { return process }
            return nil
        }
        process?.stop(reason: .cancelled, grace: job.terminationGracePeriod)
    }

    /// The argv to spawn: the resolved executable, or the memory-limit wrapper around it.
    private func commandLine() throws(JobRunnerError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: job.workingDirectory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw JobRunnerError(
                .workingDirectoryNotFound,
                "working directory \(job.workingDirectory.path) does not exist or is not a directory"
            )
        }
        for (name, value) in job.environment {
            guard !name.isEmpty, !name.contains("="), !name.contains("\0"), !value.contains("\0") else {
                throw JobRunnerError(.invalidJob, "environment variable \(name.debugDescription) cannot be passed")
            }
        }
        for argument in job.arguments where argument.contains("\0") {
            throw JobRunnerError(.invalidJob, "argument \(argument.debugDescription) contains a NUL byte")
        }
        precondition(job.outputTailLimit > 0, "outputTailLimit must be positive")

        let executable = try ExecutableLocator.locate(
            job.executable,
            searchPath: job.environment["PATH"],
            workingDirectory: job.workingDirectory.path
        )
        let command = job.launcher + [executable] + job.arguments
        guard let memoryLimitBytes = job.memoryLimitBytes else { return command }
        let kibibytes = max(1, memoryLimitBytes / 1024)
        // $1 is the limit; after `shift`, "$@" is the job's own argv. `exec` keeps the shell's pid, so
        // the job still leads its process group.
        let script = #"ulimit -v "$1" || exit 125; shift; exec "$@""#
        return ["/bin/sh", "-c", script, "repro-memory-limit", "\(kibibytes)"] + command
    }
}
