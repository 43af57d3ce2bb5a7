import Foundation
import Testing

@testable import ReproWorker

/// The cgroup v2 path, on a directory laid out like a delegated cgroup (this machine kind has a
/// cgroup v1 hierarchy, so the kernel side cannot run here): detection, the worker's move into a
/// leaf, the controllers enabled for children, and each job's limit files.
@Suite("JobCgroups")
struct JobCgroupsTests {
    func fakeHierarchy(controllers: String) throws -> (TemporaryDirectory, URL) {
        let directory = try TemporaryDirectory()
        let mount = directory.url.appending(path: "cgroup")
        let own = mount.appending(path: "system.slice/repro-worker.service")
        try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
        try Data("cpuset cpu io memory pids\n".utf8).write(to: mount.appending(path: "cgroup.controllers"))
        try Data(controllers.utf8).write(to: own.appending(path: "cgroup.controllers"))
        return (directory, mount)
    }

    @Test("a delegated cgroup with memory and pids is found; without them, or on cgroup v1, rlimits it is")
    func detection() throws {
        let (directory, mount) = try fakeHierarchy(controllers: "cpu memory pids\n")
        _ = directory
        let found = try JobCgroups.detect(mount: mount, selfCgroup: "0::/system.slice/repro-worker.service\n").get()
        #expect(found.path.hasSuffix("system.slice/repro-worker.service"))

        let (other, bare) = try fakeHierarchy(controllers: "cpu\n")
        _ = other
        #expect(throws: SandboxError.self) {
            try JobCgroups.detect(mount: bare, selfCgroup: "0::/system.slice/repro-worker.service").get()
        }
        #expect(throws: SandboxError.self) {
            try JobCgroups.detect(mount: mount, selfCgroup: "4:memory:/x\n1:cpu:/\n").get()
        }
        // This machine: a hybrid hierarchy, no delegation.
        if case .success = JobCgroups.detect(
            mount: URL(filePath: "/sys/fs/cgroup"), selfCgroup: (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "")
        {
            Issue.record("unexpected: this machine delegates a cgroup v2; the hostile test then covers it")
        }
    }

    @Test("the worker moves into a leaf, children get the controllers, a job gets its limits")
    func delegationAndJobLimits() throws {
        let (directory, mount) = try fakeHierarchy(controllers: "cpu memory pids\n")
        _ = directory
        let root = mount.appending(path: "system.slice/repro-worker.service")
        let cgroups = try JobCgroups.delegate(root: root, pid: 4242)
        #expect(try String(contentsOf: root.appending(path: "worker/cgroup.procs"), encoding: .utf8) == "4242\n")
        #expect(try String(contentsOf: root.appending(path: "cgroup.subtree_control"), encoding: .utf8) == "+memory +pids +cpu\n")

        let job = try cgroups.create(job: UUID(), limits: .init(memoryBytes: 2 << 30, processes: 512, cpus: 2))
        func read(_ name: String) throws -> String { try String(contentsOf: job.appending(path: name), encoding: .utf8) }
        #expect(try read("memory.max") == "\(2 << 30)\n")
        #expect(try read("memory.swap.max") == "0\n")
        #expect(try read("pids.max") == "512\n")
        #expect(try read("cpu.max") == "200000 100000\n")
        #expect(JobCgroups.enter(job).suffix(1) == [job.path])
    }

    @Test("limits follow the controllers the host offers")
    func limitsFollowControllers() {
        let limits = JobCgroups.Limits(memoryBytes: 1 << 20, processes: 8, cpus: 1)
        #expect(limits.files(controllers: ["pids"]).map(\.0) == ["pids.max"])
        #expect(limits.files(controllers: ["memory", "pids", "cpu"]).map(\.0) == ["memory.max", "memory.swap.max", "pids.max", "cpu.max"])
    }
}
