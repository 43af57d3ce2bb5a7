import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An exclusive `flock` on a lock file, shared between worker processes
/// and between tasks of one process (each acquisition opens the file anew,
/// and `flock` locks of separate opens exclude each other).
///
/// The lock file is never deleted: removing it while another process waits
/// on it would let a third lock a new file of the same name.
final class FileLock {
    private var fd: Int32

    private init(fd: Int32) {
        self.fd = fd
    }

    /// Waits for the lock without blocking a thread: `LOCK_NB` attempts
    /// with a short sleep between them, so waiting can be cancelled.
    static func acquire(_ url: URL, logger: Logger) async throws -> FileLock {
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw VirtualEnvError(.ioFailed, "cannot open lock file \(url.path): \(String(cString: strerror(errno)))")
        }
        var announced = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR else {
                close(fd)
                throw VirtualEnvError(.ioFailed, "cannot lock \(url.path): \(String(cString: strerror(error)))")
            }
            if !announced {
                logger.info("waiting for another build of the same virtualenv")
                announced = true
            }
            do {
                try await Task.sleep(for: .milliseconds(200))
            } catch {
                close(fd)
                throw error
            }
        }
        return FileLock(fd: fd)
    }

    /// Releases the lock; the kernel also releases it if the process dies.
    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit {
        release()
    }
}
