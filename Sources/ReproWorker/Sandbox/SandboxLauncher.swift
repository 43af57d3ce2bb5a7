import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Turns a ``SandboxPolicy`` into the command that starts a process under it on this machine:
/// `setpriv` to the job user (for a root worker), then `bwrap` with the policy's arguments.
///
/// Made once at worker start by ``prepare(workDirectory:logger:)``, which also proves the sandbox
/// works here (a trivial process must start in it), so that a strict worker never leases a task
/// it could not isolate.
public struct SandboxLauncher: Sendable {
    /// The user jobs run as.
    public let user: JobUser
    /// Facts about this machine the policies need.
    public let host: SandboxPolicy.Host
    let bubblewrap: String
    let setpriv: String?
    let prlimit: String?

    init(user: JobUser, host: SandboxPolicy.Host, bubblewrap: String, setpriv: String?, prlimit: String?) {
        self.user = user
        self.host = host
        self.bubblewrap = bubblewrap
        self.setpriv = setpriv
        self.prlimit = prlimit
    }

    /// The program and arguments that run a command under `policy`; the command follows them.
    ///
    /// - Parameter processLimit: `RLIMIT_NPROC` of the job (processes and threads of the job user
    ///   on the whole machine: a fork bomb's ceiling), set by util-linux `prlimit` before the switch
    ///   of user; nil for none.
    public func launcher(for policy: SandboxPolicy, processLimit: Int? = nil) -> [String] {
        var command: [String] = []
        if let processLimit, let prlimit {
            command += [prlimit, "--nproc=\(processLimit)"]
        }
        if user.switchesUser, let setpriv {
            // Real, effective and saved ids all become the job user's, with no supplementary groups,
            // no capabilities to inherit or regain, and no way back up through a setuid binary.
            command += [
                setpriv, "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs",
            ]
        }
        return command + [bubblewrap] + policy.bubblewrapArguments(host: host)
    }

    /// A policy for a job of this launcher's user.
    public func jobPolicy(
        workingDirectory: String, readOnly: [String], writable: [String], network: Bool, gpuIndices: [Int]
    ) -> SandboxPolicy {
        SandboxPolicy(
            purpose: .job, uid: user.uid, gid: user.gid, workingDirectory: workingDirectory, readOnlyPaths: readOnly,
            writablePaths: writable, network: network, gpuIndices: gpuIndices)
    }

    /// Finds bubblewrap and the job user, writes the generated `/etc` files under `workDirectory`,
    /// and runs a trivial process in a sandbox to prove it works.
    ///
    /// - Throws: ``SandboxError`` saying what is missing and how to install or allow it.
    public static func prepare(workDirectory: URL, logger: Logger) async throws -> SandboxLauncher {
        let searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        guard let bubblewrap = try? ExecutableLocator.locate("bwrap", searchPath: searchPath, workingDirectory: "/") else {
            throw SandboxError(
                "bubblewrap (bwrap) is not installed, and --isolation strict needs it to keep jobs away from this "
                    + "machine. Install it (`apt-get install bubblewrap` on Debian and Ubuntu, `dnf install bubblewrap` "
                    + "on Fedora), or run your own code only with --isolation none.")
        }
        let user = try JobUser.resolve()
        var setpriv: String?
        if user.switchesUser {
            guard let found = try? ExecutableLocator.locate("setpriv", searchPath: searchPath, workingDirectory: "/")
            else {
                throw SandboxError("setpriv (util-linux) is not installed; a root worker needs it to drop to \(user.name).")
            }
            setpriv = found
        }
        let generated = workDirectory.appendingPathComponent("sandbox-etc")
        try writeGeneratedEtc(user.generatedEtcFiles, into: generated)
        for path in [workDirectory.path, generated.path] where !user.canReach(path) {
            throw SandboxError(
                "jobs run as \(user.name), who cannot reach \(path) (a directory above it is private). "
                    + "Choose a --work-dir outside private home directories, e.g. /var/lib/reprogrid/worker.")
        }
        let prlimit = try? ExecutableLocator.locate("prlimit", searchPath: searchPath, workingDirectory: "/")
        if prlimit == nil {
            logger.warning("prlimit (util-linux) is not installed: jobs run without a process limit")
        }
        let launcher = SandboxLauncher(
            user: user, host: inspectHost(generatedEtc: generated.path), bubblewrap: bubblewrap, setpriv: setpriv,
            prlimit: prlimit)
        try await launcher.selfTest(logger: logger)
        return launcher
    }

    /// Runs `/usr/bin/true` under the strictest policy; a failure names bubblewrap's complaint.
    func selfTest(logger: Logger) async throws {
        let policy = jobPolicy(workingDirectory: "/", readOnly: [], writable: [], network: false, gpuIndices: [])
        let job = JobRunner.Job(
            executable: "/usr/bin/true", workingDirectory: URL(filePath: "/"), environment: ["PATH": "/usr/bin:/bin"],
            timeLimit: .seconds(30), launcher: launcher(for: policy), outputTailLimit: 4096)
        let outcome: JobRunner.Outcome
        do {
            outcome = try await JobRunner(job: job, logger: logger).run()
        } catch {
            throw SandboxError("bubblewrap could not be started: \(error)")
        }
        guard outcome.succeeded else {
            throw SandboxError(
                "bubblewrap cannot make a sandbox here (\(outcome.termination)): "
                    + "\(outcome.outputTail.trimmingCharacters(in: .whitespacesAndNewlines)). "
                    + "It needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and "
                    + "user.max_user_namespaces > 0; in a container, a seccomp profile that allows them).")
        }
    }

    static func inspectHost(generatedEtc: String) -> SandboxPolicy.Host {
        var links: [String: String] = [:]
        var directories: [String] = []
        for path in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                links[path] = target
            } else if info.st_mode & S_IFMT == S_IFDIR {
                directories.append(path)
            }
        }
        let gpuDevices = ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]
            .filter { FileManager.default.fileExists(atPath: $0) }
        return SandboxPolicy.Host(
            topLevelLinks: links, topLevelDirectories: directories, generatedEtcDirectory: generatedEtc,
            sharedGPUDevices: gpuDevices)
    }

    static func writeGeneratedEtc(_ files: [String: String], into directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            chmod(directory.path, 0o755)
            for (name, text) in files {
                let url = directory.appendingPathComponent(name)
                try Data(text.utf8).write(to: url, options: .atomic)
                chmod(url.path, 0o644)
            }
        } catch {
            throw SandboxError("cannot write the sandbox's /etc files in \(directory.path): \(error)")
        }
    }
}
