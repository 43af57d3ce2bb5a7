import Foundation
import Testing

@testable import ReproWorker

/// The sandbox as data: what a job's filesystem view, namespaces and devices are, read off the
/// bubblewrap argument list without running anything.
@Suite("SandboxPolicy")
struct SandboxPolicyTests {
    static let host = SandboxPolicy.Host(
        topLevelLinks: ["/bin": "usr/bin", "/lib": "usr/lib", "/lib64": "usr/lib64", "/sbin": "usr/sbin"],
        topLevelDirectories: [], generatedEtcDirectory: "/var/lib/reprogrid/worker/sandbox-etc",
        sharedGPUDevices: ["/dev/nvidiactl", "/dev/nvidia-uvm"])

    static func job(network: Bool = false, gpus: [Int] = []) -> SandboxPolicy {
        SandboxPolicy(
            purpose: .job, uid: 990, gid: 990, workingDirectory: "/w/jobs/a/code",
            readOnlyPaths: ["/w/jobs/a/code", "/w/cache/venvs/k"], writablePaths: ["/w/jobs/a"], network: network,
            gpuIndices: gpus)
    }

    /// (option, source, destination) triples of every bind in the list.
    static func binds(_ arguments: [String]) -> [(String, String, String)] {
        var found: [(String, String, String)] = []
        var index = 0
        while index < arguments.count {
            let option = arguments[index]
            if ["--bind", "--ro-bind", "--ro-bind-try", "--dev-bind", "--dev-bind-try"].contains(option) {
                found.append((option, arguments[index + 1], arguments[index + 2]))
                index += 3
            } else {
                index += 1
            }
        }
        return found
    }

    @Test("every namespace is new, nothing of the host's users or capabilities comes along")
    func namespaces() {
        let arguments = Self.job().bubblewrapArguments(host: Self.host)
        for option in [
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--unshare-net",
            "--disable-userns", "--die-with-parent", "--new-session",
        ] {
            #expect(arguments.contains(option), "missing \(option)")
        }
        #expect(arguments.firstIndex(of: "--uid").map { arguments[$0 + 1] } == "990")
        #expect(arguments.firstIndex(of: "--cap-drop").map { arguments[$0 + 1] } == "ALL")
        #expect(!arguments.contains("--cap-add"))
        #expect(arguments.last == "--")
    }

    @Test("the filesystem view: system read-only, the job folder writable, the code and venv read-only, nothing else")
    func filesystemView() throws {
        let arguments = Self.job().bubblewrapArguments(host: Self.host)
        let binds = Self.binds(arguments)
        let writable = binds.filter { $0.0 == "--bind" }.map(\.2)
        #expect(writable == ["/w/jobs/a"], "only the job folder is writable")
        let readOnly = Set(binds.filter { $0.0 == "--ro-bind" }.map(\.2))
        #expect(readOnly.isSuperset(of: ["/usr", "/w/jobs/a/code", "/w/cache/venvs/k", "/etc/passwd", "/etc/group"]))
        // The host's user database, secrets and homes never appear; /etc/passwd is the generated one.
        for source in binds.map(\.1) {
            #expect(!["/etc", "/etc/shadow", "/etc/gshadow", "/root", "/home", "/", "/w", "/w/jobs", "/w/cache"].contains(source))
        }
        #expect(binds.first { $0.2 == "/etc/passwd" }?.1 == "/var/lib/reprogrid/worker/sandbox-etc/passwd")
        // The code folder sits inside the writable job folder: it must be mounted after it, or the
        // writable bind would cover the read-only one.
        let jobIndex = try #require(arguments.firstIndex(of: "/w/jobs/a"))
        let codeIndex = try #require(
            arguments.indices.first { arguments[$0] == "--ro-bind" && arguments[$0 + 1] == "/w/jobs/a/code" })
        #expect(jobIndex < codeIndex)
        for privateMount in ["/tmp", "/dev/shm", "/var/tmp"] {
            #expect(arguments.indices.contains { arguments[$0] == "--tmpfs" && arguments[$0 + 1] == privateMount })
        }
        #expect(arguments.indices.contains { arguments[$0] == "--proc" && arguments[$0 + 1] == "/proc" })
        #expect(arguments.indices.contains { arguments[$0] == "--symlink" && arguments[$0 + 1] == "usr/bin" && arguments[$0 + 2] == "/bin" })
        #expect(arguments.firstIndex(of: "--chdir").map { arguments[$0 + 1] } == "/w/jobs/a/code")
        // The sandbox's own root is read-only once everything is mounted on it.
        let remount = try #require(arguments.firstIndex(of: "--remount-ro"))
        #expect(arguments[remount + 1] == "/")
        #expect(remount > codeIndex)
    }

    @Test("the network: none by default; with it, name resolution and the host's network")
    func network() {
        let closed = Self.job().bubblewrapArguments(host: Self.host)
        #expect(closed.contains("--unshare-net"))
        #expect(!Self.binds(closed).contains { $0.2 == "/etc/resolv.conf" })
        #expect(Self.binds(closed).first { $0.2 == "/etc/hosts" }?.1.hasPrefix("/var/lib/reprogrid/worker/sandbox-etc") == true)

        let open = Self.job(network: true).bubblewrapArguments(host: Self.host)
        #expect(!open.contains("--unshare-net"))
        #expect(Self.binds(open).contains { $0.0 == "--ro-bind-try" && $0.2 == "/etc/resolv.conf" })
    }

    @Test("GPUs: only the assigned devices, and CUDA_VISIBLE_DEVICES names them")
    func gpus() {
        let none = Self.job().bubblewrapArguments(host: Self.host)
        #expect(!Self.binds(none).contains { $0.1.hasPrefix("/dev/nvidia") })
        #expect(Self.job().environment["CUDA_VISIBLE_DEVICES"] == nil)

        let policy = Self.job(gpus: [1, 3])
        let devices = Self.binds(policy.bubblewrapArguments(host: Self.host)).filter { $0.0.hasPrefix("--dev-bind") }.map(\.1)
        #expect(Set(devices) == ["/dev/nvidia1", "/dev/nvidia3", "/dev/nvidiactl", "/dev/nvidia-uvm"])
        #expect(!devices.contains("/dev/nvidia0") && !devices.contains("/dev/nvidia2"))
        #expect(policy.environment["CUDA_VISIBLE_DEVICES"] == "1,3")
        #expect(policy.environment["TMPDIR"] == "/tmp")
    }

    @Test("a virtualenv build may write only the environment, and has the network")
    func environmentBuild() {
        let policy = SandboxPolicy(
            purpose: .environmentBuild, uid: 990, gid: 990, workingDirectory: "/w/jobs/a/code",
            readOnlyPaths: ["/w/jobs/a/code", "/opt/wheels"], writablePaths: ["/w/cache/venvs/k"], network: true)
        let binds = Self.binds(policy.bubblewrapArguments(host: Self.host))
        #expect(binds.filter { $0.0 == "--bind" }.map(\.2) == ["/w/cache/venvs/k"])
        #expect(!policy.bubblewrapArguments(host: Self.host).contains("--unshare-net"))
    }
}

@Suite("IsolationProbe")
struct IsolationProbeScriptTests {
    @Test("the probe the worker carries is the test fixture, byte for byte")
    func scriptMatchesFixture() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "EndToEndTests/Fixtures/hostile/probe.py")
        #expect(IsolationProbe.script + "\n" == (try String(contentsOf: fixture, encoding: .utf8)))
    }

    @Test("every metric the probe reports is in the table, and only attacks are judged")
    func everyAttackListed() {
        let reported = Set(IsolationProbe.script.matches(of: /attempt\(\s*"(attack_[a-z_]+)"/).map { String($0.1) })
        #expect(reported == Set(IsolationProbe.attacks.map(\.0)))
    }
}
