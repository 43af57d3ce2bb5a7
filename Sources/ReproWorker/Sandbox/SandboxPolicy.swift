/// What one sandboxed process may see and do, as data: which namespaces it gets, which host paths
/// appear in its filesystem and how, which devices, and the bubblewrap argument list that builds it.
///
/// A pure function of the request and a few facts about the host, so that tests can enumerate
/// exactly what a job sees (architecture.md, "The trust chain", step 5). ``SandboxLauncher`` only
/// executes the list.
///
/// The view is built, not inherited: `/usr` and the loader's top-level links, a short list of
/// `/etc` files (never `passwd` or `shadow` of the host: the job gets a generated `passwd` naming
/// only itself), the paths of the request, a fresh `/proc` of the job's own PID namespace, a
/// minimal `/dev`, and private `/tmp` and `/dev/shm`. Every host path appears at the same path
/// inside, because virtualenvs embed their absolute path.
public struct SandboxPolicy: Sendable, Equatable {
    /// What the sandbox is for; an environment build needs the network to reach the package index.
    public enum Purpose: String, Sendable, Equatable {
        case job
        case environmentBuild
    }

    /// One mount in the job's filesystem view.
    public struct Mount: Sendable, Equatable, Hashable {
        public enum Kind: String, Sendable, Equatable, Hashable {
            case readOnly
            case writable
            case device
        }

        public var kind: Kind
        /// The host path, mounted at the same path inside.
        public var path: String

        public init(_ kind: Kind, _ path: String) {
            self.kind = kind
            self.path = path
        }
    }

    /// Facts about the machine that shape every sandbox on it, gathered once at start.
    public struct Host: Sendable, Equatable {
        /// Top-level entries of `/` that are symbolic links (merged-`/usr` systems), to their targets.
        public var topLevelLinks: [String: String]
        /// Top-level library and binary directories that are real directories, bound read-only.
        public var topLevelDirectories: [String]
        /// The directory holding the generated `passwd`, `group`, `hosts` and `nsswitch.conf`.
        public var generatedEtcDirectory: String
        /// Device nodes every GPU job needs besides its own GPUs (`/dev/nvidiactl`, `/dev/nvidia-uvm`, …).
        public var sharedGPUDevices: [String]

        public init(
            topLevelLinks: [String: String], topLevelDirectories: [String], generatedEtcDirectory: String,
            sharedGPUDevices: [String]
        ) {
            self.topLevelLinks = topLevelLinks
            self.topLevelDirectories = topLevelDirectories
            self.generatedEtcDirectory = generatedEtcDirectory
            self.sharedGPUDevices = sharedGPUDevices
        }
    }

    public var purpose: Purpose
    /// The uid and gid the process has inside (and, through the launcher, outside).
    public var uid: UInt32
    public var gid: UInt32
    /// Where the process starts; one of the mounted paths.
    public var workingDirectory: String
    /// Host paths the process may read, never write: its code, its virtualenv, the Python it needs.
    public var readOnlyPaths: [String]
    /// Host paths the process may write: its own job folder (or the virtualenv being built).
    public var writablePaths: [String]
    /// Whether the process keeps the host's network. Otherwise it gets a network namespace of its
    /// own with nothing but its own loopback: no coordinator, no database, no internet.
    public var network: Bool
    /// Indices of the GPUs assigned to this process (`/dev/nvidiaN`), none for CPU jobs.
    public var gpuIndices: [Int]

    public init(
        purpose: Purpose, uid: UInt32, gid: UInt32, workingDirectory: String, readOnlyPaths: [String],
        writablePaths: [String], network: Bool, gpuIndices: [Int] = []
    ) {
        self.purpose = purpose
        self.uid = uid
        self.gid = gid
        self.workingDirectory = workingDirectory
        self.readOnlyPaths = readOnlyPaths
        self.writablePaths = writablePaths
        self.network = network
        self.gpuIndices = gpuIndices
    }

    /// `/etc` entries every process may read: the loader's cache, time zone, fonts, certificates.
    public static let etcForEveryone = [
        "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
        "/etc/timezone", "/etc/os-release", "/etc/fonts", "/etc/mime.types", "/etc/ssl", "/etc/ca-certificates",
    ]
    /// `/etc` entries a process with the network also needs: name resolution and the pip configuration.
    public static let etcForNetwork = [
        "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf",
        "/etc/services", "/etc/protocols", "/etc/pip.conf",
    ]

    /// The mounts of the request's own paths, parents before the paths inside them (a read-only
    /// code folder inside a writable job folder must be mounted after it).
    public var mounts: [Mount] {
        let own = writablePaths.map { Mount(.writable, $0) } + readOnlyPaths.map { Mount(.readOnly, $0) }
        let devices = gpuIndices.isEmpty ? [] : gpuIndices.map { Mount(.device, "/dev/nvidia\($0)") }
        return own.enumerated().sorted { left, right in
            let (l, r) = (Self.depth(left.element.path), Self.depth(right.element.path))
            return l != r ? l < r : left.offset < right.offset
        }.map(\.element) + devices
    }

    /// The bubblewrap arguments that build this sandbox, up to and including the `--` before the command.
    public func bubblewrapArguments(host: Host) -> [String] {
        var arguments = [
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        ]
        if !network { arguments.append("--unshare-net") }
        arguments += [
            // No nested user namespaces: they are the usual way from "no capabilities" back to some.
            "--disable-userns",
            "--uid", "\(uid)", "--gid", "\(gid)", "--hostname", "repro-job",
            // The job dies with the worker, and cannot reach the worker's terminal (TIOCSTI).
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/usr", "/usr",
        ]
        for (path, target) in host.topLevelLinks.sorted(by: { $0.key < $1.key }) {
            arguments += ["--symlink", target, path]
        }
        for path in host.topLevelDirectories.sorted() {
            arguments += ["--ro-bind", path, path]
        }
        arguments += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
        arguments += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
        let generated = host.generatedEtcDirectory
        let etc = Self.etcForEveryone + (network ? Self.etcForNetwork : [])
        for path in etc {
            arguments += ["--ro-bind-try", path, path]
        }
        // Generated last so they win over nothing of the host: the job learns no other user's name.
        arguments += ["--ro-bind", "\(generated)/passwd", "/etc/passwd", "--ro-bind", "\(generated)/group", "/etc/group"]
        if !network {
            arguments += [
                "--ro-bind", "\(generated)/hosts", "/etc/hosts",
                "--ro-bind", "\(generated)/nsswitch.conf", "/etc/nsswitch.conf",
            ]
        }
        for mount in mounts {
            switch mount.kind {
            case .readOnly: arguments += ["--ro-bind", mount.path, mount.path]
            case .writable: arguments += ["--bind", mount.path, mount.path]
            case .device: arguments += ["--dev-bind", mount.path, mount.path]
            }
        }
        if !gpuIndices.isEmpty {
            for device in host.sharedGPUDevices.sorted() {
                arguments += ["--dev-bind-try", device, device]
            }
        }
        // The root bubblewrap builds is a tmpfs of its own: make it read-only too, so the only
        // writable places are the writable paths, /tmp, /var/tmp and /dev/shm.
        arguments += ["--remount-ro", "/", "--chdir", workingDirectory, "--"]
        return arguments
    }

    /// Variables the sandbox sets for the process on top of the job's own.
    public var environment: [String: String] {
        var variables = ["TMPDIR": "/tmp"]
        if !gpuIndices.isEmpty {
            variables["CUDA_VISIBLE_DEVICES"] = gpuIndices.map(String.init).joined(separator: ",")
        }
        return variables
    }

    private static func depth(_ path: String) -> Int {
        path.split(separator: "/").count
    }
}
