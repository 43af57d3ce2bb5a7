import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The host user jobs run as.
///
/// A user namespace alone does not make a job unprivileged: started as root, `bwrap --unshare-user
/// --uid 65534` maps the job back to host root, and every host file bound in stays readable to it.
/// So a worker running as root drops to a dedicated system user (``defaultName``, created by the
/// install step) before it starts bubblewrap, and a worker running as anyone else runs jobs as
/// itself: then the job already has nothing the worker's user lacks, and the sandbox hides the
/// worker's own files from it.
public struct JobUser: Sendable, Equatable {
    /// The system user a root worker runs jobs as.
    public static let defaultName = "reprogrid-job"

    public var name: String
    public var uid: UInt32
    public var gid: UInt32
    /// Whether the worker must switch to this user (it runs as root); otherwise the job runs as the worker.
    public var switchesUser: Bool

    public init(name: String, uid: UInt32, gid: UInt32, switchesUser: Bool) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.switchesUser = switchesUser
    }

    /// The user jobs run as on this machine: `name` for a root worker, the worker's own user otherwise.
    public static func resolve(name: String = defaultName) throws -> JobUser {
        let uid = getuid()
        guard uid == 0 else {
            return JobUser(name: userName(uid) ?? "uid \(uid)", uid: uid, gid: getgid(), switchesUser: false)
        }
        guard let entry = getpwnam(name) else {
            throw SandboxError(
                "the worker runs as root, so jobs run as the unprivileged system user \(name), which does not exist. "
                    + "Create it (`useradd --system --no-create-home --shell /usr/sbin/nologin \(name)`), "
                    + "or run the worker as an unprivileged user.")
        }
        let (jobUID, jobGID) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        guard jobUID != 0, jobGID != 0 else {
            throw SandboxError("the job user \(name) has uid or gid 0; jobs must not run as root. Give it its own ids.")
        }
        return JobUser(name: name, uid: jobUID, gid: jobGID, switchesUser: true)
    }

    private static func userName(_ uid: uid_t) -> String? {
        guard let entry = getpwuid(uid) else { return nil }
        return String(cString: entry.pointee.pw_name)
    }

    /// Whether this user can walk down to `path`: every directory above it searchable by them.
    ///
    /// Bubblewrap resolves the paths it binds as the job's user, so a job folder or a Python under
    /// a private home (`/root` is 0700) cannot be bound however the worker sees it.
    public func canReach(_ path: String) -> Bool {
        var current = ""
        for component in path.split(separator: "/").dropLast() {
            current += "/" + component
            var info = stat()
            guard stat(current, &info) == 0 else { return false }
            let mode = info.st_mode
            let bit: mode_t =
                info.st_uid == uid ? 0o100 : (info.st_gid == gid ? 0o010 : 0o001)
            if mode & bit == 0 { return false }
        }
        return true
    }

    /// The lines of the `passwd` and `group` files jobs see: this user and nothing else of the host.
    public var generatedEtcFiles: [String: String] {
        [
            "passwd": "\(name):x:\(uid):\(gid):ReproGrid job:/tmp:/usr/sbin/nologin\n",
            "group": "\(name):x:\(gid):\n",
            "hosts": "127.0.0.1 localhost repro-job\n::1 localhost ip6-localhost ip6-loopback\n",
            "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
        ]
    }
}

/// Why the sandbox cannot be used, with what to do about it.
public struct SandboxError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
