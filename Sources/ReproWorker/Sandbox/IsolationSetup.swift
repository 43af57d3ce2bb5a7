import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What a worker decides about isolation at start: the sandbox (or none), the Python that builds
/// environments, and the line that tells the volunteer what jobs may do here.
struct IsolationSetup: Sendable {
    var sandbox: SandboxLauncher?
    /// The interpreter environments are built from (a real path when sandboxed).
    var python: String
    /// The installation that interpreter belongs to, if known.
    var pythonPrefix: String?
    /// Per-job cgroups, where the host delegates one; otherwise rlimits.
    var cgroups: JobCgroups?
    var summary: String

    /// Prepares the work directory's folders and, in strict mode, a working sandbox.
    ///
    /// - Throws: ``SandboxError`` when strict isolation is asked for and cannot be had; the worker
    ///   then refuses to start rather than run a stranger's code unconfined.
    static func prepare(configuration: WorkerConfiguration, logger: Logger) async throws -> IsolationSetup {
        let work = configuration.workDirectory
        // The spool holds results; jobs and other users have nothing to read there.
        chmod(work.appendingPathComponent("spool").path, 0o700)
        guard configuration.isolation == .strict else {
            logger.warning(
                "isolation none: jobs run unconfined as this worker's user and can read its token, its files and the network; use it only for your own code"
            )
            return IsolationSetup(
                sandbox: nil, python: configuration.python, pythonPrefix: nil, cgroups: nil,
                summary: "WARNING: --isolation none — jobs run unconfined as \(JobUser.currentName), with this worker's files and network. Use it only for code you trust.")
        }
        // Traversable, not listable: jobs reach their own folder and environment by name only.
        for directory in [work, configuration.cacheDirectory] { chmod(directory.path, 0o711) }
        let sandbox = try await SandboxLauncher.prepare(workDirectory: work, logger: logger)
        for path in [configuration.cacheDirectory.path] where !sandbox.user.canReach(path + "/venvs") {
            throw SandboxError(
                "jobs run as \(sandbox.user.name), who cannot reach the cache \(path) (a directory above it is private). "
                    + "Choose a --cache-dir outside private home directories, e.g. /var/lib/reprogrid/cache.")
        }
        let (python, prefix) = try await choosePython(configuration: configuration, user: sandbox.user, logger: logger)
        let cgroups = delegatedCgroups(logger: logger)
        let limits = cgroups.map { "time, and cgroup v2 per job (\($0.controllers.sorted().joined(separator: ", ")); processes \(configuration.processLimit))" }
            ?? "time, address space (RLIMIT_AS) and processes (RLIMIT_NPROC \(configuration.processLimit)); no delegated cgroup v2 here"
        let network = configuration.allowNetwork ? "network only for studies that ask for it" : "no network"
        return IsolationSetup(
            sandbox: sandbox, python: python, pythonPrefix: prefix, cgroups: cgroups,
            summary: "isolation strict: each job in its own bubblewrap sandbox as \(sandbox.user.name) (uid \(sandbox.user.uid)), \(network); limits: \(limits)")
    }

    /// The worker's delegated cgroup v2, set up for job cgroups; nil (rlimits) when the host offers none.
    static func delegatedCgroups(logger: Logger) -> JobCgroups? {
        let selfCgroup = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        switch JobCgroups.detect(mount: URL(filePath: "/sys/fs/cgroup"), selfCgroup: selfCgroup) {
        case .failure(let reason):
            logger.notice("job limits by rlimits: \(reason)")
            return nil
        case .success(let root):
            do {
                return try JobCgroups.delegate(root: root)
            } catch {
                logger.warning("job limits by rlimits: cannot set up cgroups under \(root.path): \(error)")
                return nil
            }
        }
    }

    /// The Python to build environments from: the configured one when the job user can reach its
    /// installation, else (when the volunteer did not choose one) the system's `/usr/bin/python3`.
    static func choosePython(
        configuration: WorkerConfiguration, user: JobUser, logger: Logger
    ) async throws -> (String, String?) {
        let builder = VirtualEnvBuilder(logger: logger)
        let interpreter: VirtualEnvBuilder.Interpreter
        do {
            interpreter = try await builder.interpreter(configuration.python)
        } catch {
            // Jobs that need no environment can still run; one that does will fail with this reason.
            logger.warning("no usable Python for environments", metadata: ["repro.error": "\(error)"])
            return (configuration.python, nil)
        }
        if user.canReach(interpreter.executable), user.canReach(interpreter.basePrefix + "/lib") {
            return (interpreter.executable, interpreter.basePrefix)
        }
        let system = "/usr/bin/python3"
        if !configuration.pythonIsExplicit, let fallback = try? await builder.interpreter(system),
            user.canReach(fallback.executable)
        {
            logger.notice(
                "the default Python lives where jobs cannot reach it; environments use the system Python",
                metadata: ["repro.python.unreachable": "\(interpreter.executable)", "repro.python": "\(fallback.executable)"])
            return (fallback.executable, fallback.basePrefix)
        }
        throw SandboxError(
            "jobs run as \(user.name), who cannot reach the Python \(interpreter.executable) (a directory above it is "
                + "private). Pass --python with an interpreter installed for all users, e.g. /usr/bin/python3.")
    }
}

extension JobUser {
    /// The name of the user this process runs as.
    static var currentName: String {
        getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(getuid())"
    }
}
