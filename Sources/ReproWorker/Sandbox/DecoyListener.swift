import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A listening socket that accepts nothing, standing in for the coordinator's port or the database's
/// socket during an isolation check: a connect() that reaches it succeeds (the kernel completes the
/// handshake into the backlog), so a probe that can reach it could reach the real one.
struct DecoyListener {
    let fd: Int32
    let port: Int
    let path: String

    /// Listens on 127.0.0.1 on a port the kernel picks.
    static func tcp() throws -> DecoyListener {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SandboxError("cannot open a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw SandboxError("cannot listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return DecoyListener(fd: fd, port: Int(UInt16(bigEndian: address.sin_port)), path: "")
    }

    /// Listens on a Unix socket at `path`, reachable by everyone (as a database socket usually is).
    static func unix(_ path: String) throws -> DecoyListener {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SandboxError("cannot open a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw SandboxError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw SandboxError("cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o777)
        return DecoyListener(fd: fd, port: 0, path: path)
    }

    func stop() {
        _ = close(fd)
        if !path.isEmpty { unlink(path) }
    }
}

/// The host's processes, as the worker sees them.
enum HostProcesses {
    /// Pids of processes whose command line contains `marker`, waiting up to a second for dying ones
    /// (a sandbox's processes are killed when it ends, a moment after its last job returns).
    static func matching(_ marker: String) -> [pid_t] {
        var found: [pid_t] = []
        for _ in 0..<10 {
            found = scan(marker)
            if found.isEmpty { return [] }
            usleep(100_000)
        }
        return found
    }

    /// Pids of processes whose command line (arguments joined by NUL) contains `marker`, right now.
    static func matchingNow(_ marker: String) -> [pid_t] { scan(marker) }

    private static func scan(_ marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                let argv = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: argv, as: UTF8.self).contains(marker)
            else { return nil }
            return pid
        }
    }
}
