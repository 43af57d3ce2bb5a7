import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Per-job cgroup v2 limits (memory, processes, CPU), used where the host delegates a writable
/// cgroup to the worker (systemd `Delegate=yes`, a container with its own cgroup namespace);
/// elsewhere jobs keep the rlimits (`RLIMIT_AS`, `RLIMIT_NPROC`).
///
/// cgroup v2 forbids processes in a cgroup whose controllers are handed to children, so the worker
/// first moves itself into a leaf `worker/` of its delegated cgroup, enables the controllers for the
/// children, and then makes one child `job-<lease id>` per job. The job enters its cgroup before it
/// drops privileges (`/bin/sh` writes its own pid into `cgroup.procs`, then `exec`s the launcher),
/// so nothing it starts can run outside it.
public struct JobCgroups: Sendable {
    /// The delegated cgroup's directory (under the cgroup2 mount).
    public let root: URL
    /// Controllers enabled for job cgroups.
    public let controllers: Set<String>

    /// Limits of one job.
    public struct Limits: Sendable, Equatable {
        public var memoryBytes: Int64?
        public var processes: Int?
        public var cpus: Int?

        public init(memoryBytes: Int64?, processes: Int?, cpus: Int?) {
            self.memoryBytes = memoryBytes
            self.processes = processes
            self.cpus = cpus
        }

        /// The interface files to write, as (file, content), for the enabled controllers.
        public func files(controllers: Set<String>) -> [(String, String)] {
            var files: [(String, String)] = []
            if let memoryBytes, memoryBytes > 0, controllers.contains("memory") {
                files.append(("memory.max", "\(memoryBytes)"))
                // Beyond the limit the job is killed, not swapped into a crawl.
                files.append(("memory.swap.max", "0"))
            }
            if let processes, controllers.contains("pids") { files.append(("pids.max", "\(processes)")) }
            if let cpus, cpus > 0, controllers.contains("cpu") { files.append(("cpu.max", "\(cpus * 100_000) 100000")) }
            return files
        }
    }

    /// The delegated cgroup of this process, if the host offers one with the memory and pids
    /// controllers and lets the worker write it; nil otherwise, with the reason.
    ///
    /// - Parameters:
    ///   - mount: where cgroup2 is mounted (`/sys/fs/cgroup`).
    ///   - selfCgroup: the content of `/proc/self/cgroup`.
    public static func detect(mount: URL, selfCgroup: String) -> Result<URL, SandboxError> {
        guard FileManager.default.fileExists(atPath: mount.appending(path: "cgroup.controllers").path) else {
            return .failure(SandboxError("no cgroup v2 hierarchy at \(mount.path) (cgroup v1 or hybrid)"))
        }
        guard let line = selfCgroup.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else {
            return .failure(SandboxError("this process is in no cgroup v2 group"))
        }
        let path = String(line.dropFirst(3))
        let root = path == "/" ? mount : mount.appending(path: String(path.dropFirst()))
        let available = Set(
            ((try? String(contentsOf: root.appending(path: "cgroup.controllers"), encoding: .utf8)) ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init))
        guard available.isSuperset(of: ["memory", "pids"]) else {
            return .failure(SandboxError("the worker's cgroup \(root.path) offers no memory and pids controllers"))
        }
        guard access(root.path, W_OK) == 0 else {
            return .failure(SandboxError("the worker's cgroup \(root.path) is not delegated to it (not writable)"))
        }
        return .success(root)
    }

    /// Moves this process into `root/worker` and enables memory, pids and (if offered) cpu for job cgroups.
    public static func delegate(root: URL, pid: pid_t = getpid()) throws -> JobCgroups {
        let available = Set(
            ((try? String(contentsOf: root.appending(path: "cgroup.controllers"), encoding: .utf8)) ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init))
        let wanted = ["memory", "pids", "cpu"].filter(available.contains)
        let leaf = root.appending(path: "worker")
        try FileManager.default.createDirectory(at: leaf, withIntermediateDirectories: true)
        try writeFile("\(pid)\n", to: leaf.appending(path: "cgroup.procs"))
        try writeFile(wanted.map { "+\($0)" }.joined(separator: " ") + "\n", to: root.appending(path: "cgroup.subtree_control"))
        return JobCgroups(root: root, controllers: Set(wanted))
    }

    /// Makes the cgroup of one job with its limits; returns its directory.
    public func create(job: UUID, limits: Limits) throws -> URL {
        let directory = root.appending(path: "job-\(job.uuidString.lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (file, content) in limits.files(controllers: controllers) {
            try Self.writeFile(content + "\n", to: directory.appending(path: file))
        }
        return directory
    }

    /// The launcher prefix that puts the job into `directory` before anything else runs.
    public static func enter(_ directory: URL) -> [String] {
        ["/bin/sh", "-c", #"echo $$ > "$1/cgroup.procs" || exit 125; shift; exec "$@""#, "repro-cgroup", directory.path]
    }

    /// Removes a job's cgroup once its processes are gone (the kernel refuses while any is left).
    public func remove(_ directory: URL) {
        for _ in 0..<20 {
            if rmdir(directory.path) == 0 || errno == ENOENT { return }
            usleep(50_000)
        }
    }

    static func writeFile(_ text: String, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CLOEXEC | O_CREAT, 0o644)
        guard fd >= 0 else { throw SandboxError("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = text.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count else {
            throw SandboxError("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
