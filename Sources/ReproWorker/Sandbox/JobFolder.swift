import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One job's folder, `WORK_DIR/jobs/<lease id>`: `code/` (the unpacked bundle, read-only to the
/// job) and `output/` (`$REPRO_OUTPUT_DIR`), the only place the job may write.
///
/// The folder belongs to the job user and is 0700; `jobs/` above it is 0711, so a job reaches its
/// own folder by name but cannot list its neighbours (and in the sandbox it sees neither).
struct JobFolder {
    let root: URL
    var code: URL { root.appendingPathComponent("code") }
    var output: URL { root.appendingPathComponent("output") }

    init(jobs: URL, leaseID: UUID) {
        root = jobs.appendingPathComponent(leaseID.uuidString.lowercased())
    }

    /// Creates the folder and its output directory, owned by `user` when the worker switches to it. A
    /// folder of the same lease left by a crash of this worker is removed first: the coordinator sends
    /// a lease whose worker restarted again (decision 0016), and the job starts over from clean code.
    func create(for user: JobUser?) throws {
        let jobs = root.deletingLastPathComponent()
        if FileManager.default.fileExists(atPath: root.path) { try FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        chmod(jobs.path, 0o711)
        chmod(root.path, 0o700)
        if let user, user.switchesUser {
            for path in [root.path, output.path] where chown(path, user.uid, user.gid) != 0 {
                throw WorkerError("cannot give \(path) to the job user \(user.name): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Makes the unpacked code readable by everyone (it stays the worker's, so the job cannot change
    /// it): a bundle's own modes may be 0600, and the job runs as another user. Links are left as
    /// they are: `chmod` would follow them out of the folder.
    func makeCodeReadable() throws {
        try VirtualEnvSeal.walk(code) { path, info in
            let type = info.st_mode & S_IFMT
            guard type == S_IFDIR || type == S_IFREG else { return }
            let readable: mode_t = type == S_IFDIR || info.st_mode & 0o100 != 0 ? 0o555 : 0o444
            chmod(path, (info.st_mode & 0o7777) | readable)
        }
    }

    /// Whether `output/` is still a real directory: the job owns it and could have replaced it by a
    /// link to a file of the worker's before the worker reads its metrics.
    var outputIsDirectory: Bool {
        var info = stat()
        return lstat(output.path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}
