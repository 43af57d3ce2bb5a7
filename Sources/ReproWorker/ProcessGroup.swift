import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A child process spawned as the leader of its own process group.
///
/// Foundation's `Process` leaves the child in the worker's process group, so
/// killing it would leave behind whatever it started (a data loader, a shell's
/// background job). Here the child gets `pgid == pid` through
/// `POSIX_SPAWN_SETPGROUP`, and every signal goes to `-pgid`: the whole tree
/// that did not deliberately leave the group.
///
/// The leader is reaped on a dedicated thread, in two steps: `waitid(WNOWAIT)`
/// notices the exit but leaves a zombie, which keeps the pid, and so the pgid,
/// from being reused; only then are stragglers in the group killed and the
/// leader reaped. No signal is ever sent to a group id after the reap.
final class ProcessGroup: Sendable {
    /// Why the worker ended the group before it exited on its own.
    enum StopReason: Sendable {
        case timeLimit
        case cancelled
    }

    private struct State {
        var exitNoticed = false
        var reaped = false
        var stopReason: StopReason?
    }

    /// The leader's pid, which is also the group id.
    let pid: pid_t
    private let state = Mutex(State())
    private let exit = OneShot<Exit>()

    /// How the leader ended.
    struct Exit: Sendable {
        var termination: JobRunner.Termination
        /// Why the worker stopped the group, if it did before the leader exited.
        var stopReason: StopReason?
        /// When the leader's exit was noticed.
        var time: ContinuousClock.Instant
    }

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Spawns `argv` with stdin on /dev/null and stdout and stderr on `outputFD`.
    ///
    /// - Parameters:
    ///   - argv: the program's absolute path followed by its arguments.
    ///   - environment: the complete environment of the child.
    ///   - workingDirectory: an existing directory.
    ///   - outputFD: the write end of the output pipe; the caller closes its copy.
    static func spawn(
        argv: [String],
        environment: [String: String],
        workingDirectory: String,
        outputFD: Int32
    ) throws(JobRunnerError) -> ProcessGroup {
        guard let chdirAction = SpawnSymbols.addChdir else {
            throw JobRunnerError(
                .spawnFailed,
                "this C library cannot set a child's working directory (posix_spawn_file_actions_addchdir_np)"
            )
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outputFD, STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, outputFD, STDERR_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        _ = workingDirectory.withCString { chdirAction(&actions, $0) }
        // Descriptors the worker holds (coordinator sockets, other jobs' pipes,
        // cache lock files) must not leak into an untrusted job, and a leaked
        // pipe end would keep another job's output from ever reaching EOF.
        if let closeFrom = SpawnSymbols.addCloseFrom {
            _ = closeFrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // pgroup 0: the child becomes leader of a new group whose id is its pid.
        posix_spawnattr_setpgroup(&attributes, 0)
        // The spawning thread may block signals (Dispatch threads do), and
        // ignored signals stay ignored across exec (the Swift runtime ignores
        // SIGPIPE). A job should start with the defaults a shell would give it.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )

        let cArguments = argv.map { strdup($0) }
        let cEnvironment = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in cArguments + cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments + [nil], cEnvironment + [nil])
        guard status == 0 else {
            throw JobRunnerError(
                .spawnFailed,
                "cannot start \(argv[0]): \(String(cString: strerror(status)))",
                errorNumber: status
            )
        }
        return ProcessGroup(pid: pid)
    }

    /// Starts the thread that waits for the leader; `onReaped` runs on it after the reap.
    func startWaiting(onReaped: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            waitAndReap()
            onReaped()
        }
        thread.name = "repro-job-wait-\(pid)"
        thread.start()
    }

    /// How the leader ended, once it has.
    var exitInfo: Exit {
        get async { await exit.value }
    }

    /// Sends SIGTERM to the group now and SIGKILL after `grace`, unless the
    /// leader has already exited. Only the first reason counts.
    func stop(reason: StopReason, grace: Duration) {
        let started = state.withLock { state -> Bool in
            guard !state.exitNoticed, state.stopReason == nil else { return false }
            state.stopReason = reason
            kill(-pid, SIGTERM)
            return true
        }
        guard started else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + grace.dispatchInterval) { [self] in
            state.withLock { state in
                if !state.reaped {
                    kill(-pid, SIGKILL)
                }
            }
        }
    }

    private func waitAndReap() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        let time = ContinuousClock.now

        let reason = state.withLock { state -> StopReason? in
            state.exitNoticed = true
            // The job is over when its leader is; whatever it left running in
            // the group (background jobs, orphaned workers) goes with it.
            kill(-pid, SIGKILL)
            return state.stopReason
        }

        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        state.withLock { $0.reaped = true }
        exit.fulfill(Exit(termination: Self.termination(fromWaitStatus: status), stopReason: reason, time: time))
    }

    /// Decodes a `waitpid` status; the W* macros are not imported into Swift.
    static func termination(fromWaitStatus status: Int32) -> JobRunner.Termination {
        let signal = status & 0x7f
        if signal == 0 {
            return .exited((status >> 8) & 0xff)
        }
        return .signalled(signal)
    }
}
