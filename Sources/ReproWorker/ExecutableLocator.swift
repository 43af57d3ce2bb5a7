#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Finds a job's executable the way a shell would, but on the job's own
/// `PATH`: `posix_spawnp` would search the worker's, which a scrubbed job
/// environment (with the virtualenv's `bin` first) deliberately differs from.
enum ExecutableLocator {
    /// The absolute path of `name`, or a ``JobRunnerError`` saying where it looked.
    static func locate(
        _ name: String,
        searchPath: String?,
        workingDirectory: String
    ) throws(JobRunnerError) -> String {
        guard !name.isEmpty, !name.contains("\0") else {
            throw JobRunnerError(.executableNotFound, "the job has no executable")
        }
        if name.contains("/") {
            let path = name.hasPrefix("/") ? name : workingDirectory + "/" + name
            guard isExecutableFile(path) else {
                throw JobRunnerError(.executableNotFound, "\(path) is not an executable file")
            }
            return path
        }
        let directories = (searchPath ?? "").split(separator: ":", omittingEmptySubsequences: false)
        for directory in directories where searchPath != nil {
            // An empty PATH entry means the current directory, as in POSIX shells.
            let base = directory.isEmpty ? workingDirectory : String(directory)
            let candidate = base.hasPrefix("/") ? base + "/" + name : workingDirectory + "/" + base + "/" + name
            if isExecutableFile(candidate) {
                return candidate
            }
        }
        throw JobRunnerError(
            .executableNotFound,
            "\(name) was not found on the job's PATH (\(searchPath ?? "PATH is not set"))"
        )
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }
}
