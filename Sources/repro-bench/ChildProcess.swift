import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs a helper program (pgbench, psql) to completion and returns its standard output.
///
/// Spawned with `posix_spawn` and a clean signal mask, not Foundation's `Process`: the spawning thread
/// is one of Swift concurrency's, which block nearly every signal, and a blocked mask survives exec.
/// pgbench ends a `-T` run on SIGALRM, so under `Process` it never stopped (and `timeout`, blocked the
/// same way, never killed it) — the "hanging" baseline of the first lease benchmarks.
enum ChildProcess {
    /// Runs `program` (a path, or a name looked up on the PATH) and fails with its output on a non-zero exit.
    static func run(_ program: String, arguments: [String], environment: [String: String]? = nil) async throws -> String {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw BenchError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (ends[0], ends[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, STDERR_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        // The child keeps the pipe only as its stdout and stderr: a daemon it starts (pg_ctl's postmaster)
        // redirects those, but would inherit this descriptor and hold the pipe open for ever.
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        let pid: pid_t
        do {
            pid = try spawn(program, arguments: arguments, environment: environment, actions: &actions)
        } catch {
            close(writeEnd)
            close(readEnd)
            throw error
        }
        close(writeEnd)

        // Read to the end before waiting (a full pipe would block the child), off the cooperative pool.
        let (data, exitStatus) = await Task.detached { () -> (Data, Int32) in
            let handle = FileHandle(fileDescriptor: readEnd, closeOnDealloc: true)
            let data = (try? handle.readToEnd()) ?? Data()
            var waitStatus: Int32 = 0
            while waitpid(pid, &waitStatus, 0) == -1 && errno == EINTR {}
            return (data, waitStatus)
        }.value
        let text = String(decoding: data, as: UTF8.self)
        guard exitStatus == 0 else {
            throw BenchError("\(program) ended with wait status \(exitStatus):\n\(text)")
        }
        return text
    }

    /// Starts `program` in the background with its output appended to `log`; returns its pid.
    static func start(_ program: String, arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        return try spawn(program, arguments: arguments, environment: nil, actions: &actions)
    }

    /// posix_spawnp with a clean signal mask and default dispositions (see the type's comment).
    private static func spawn(
        _ program: String, arguments: [String], environment: [String: String]?,
        actions: inout posix_spawn_file_actions_t
    ) throws -> pid_t {
        let argv = [program] + arguments
        let environment = environment ?? ProcessInfo.processInfo.environment
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        // Ignored signals also survive exec (the Swift runtime ignores SIGPIPE): give the defaults back.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments = argv.map { strdup($0) }
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") }
        defer { for pointer in cArguments + cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, program, &actions, &attributes, cArguments + [nil], cEnvironment + [nil])
        guard status == 0 else { throw BenchError("cannot start \(program): \(String(cString: strerror(status)))") }
        return pid
    }
}
