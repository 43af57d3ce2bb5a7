import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// glibc functions that its headers declare only for `_GNU_SOURCE`/`_DEFAULT_SOURCE`,
/// which Swift's Glibc module does not see; looked up once at run time.
enum SpawnSymbols {
    typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) ->
        Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    /// `posix_spawn_file_actions_addchdir_np`, glibc 2.29 and later.
    static let addChdir: AddChdir? = lookup("posix_spawn_file_actions_addchdir_np")
    /// `posix_spawn_file_actions_addclosefrom_np`, glibc 2.34 and later.
    static let addCloseFrom: AddCloseFrom? = lookup("posix_spawn_file_actions_addclosefrom_np")
    /// `pipe2`, so both ends are close-on-exec from the start.
    static let pipe2: Pipe2? = lookup("pipe2")

    private static func lookup<Function>(_ name: String) -> Function? {
        // RTLD_DEFAULT is a null handle in glibc.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }

    /// A pipe whose ends are both close-on-exec, so that a job spawned by
    /// another thread at the same moment cannot inherit them.
    static func makePipe() throws(JobRunnerError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 {
            guard pipe2(&fds, O_CLOEXEC) == 0 else {
                throw JobRunnerError(.spawnFailed, "cannot create output pipe: \(String(cString: strerror(errno)))")
            }
        } else {
            // Racy without pipe2, but closefrom in the child covers our own spawns.
            guard pipe(&fds) == 0 else {
                throw JobRunnerError(.spawnFailed, "cannot create output pipe: \(String(cString: strerror(errno)))")
            }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }
}
