import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `postmaster.pid` lock file that a running server keeps in its data directory.
///
/// Lines: 1 process id, 2 data directory, 3 start time, 4 port, 5 first socket directory,
/// 6 listen address, 7 shared-memory key, 8 status.
struct PostmasterPIDFile: Sendable, Hashable {
    let pid: pid_t
    let port: Int?
    let socketDirectory: String?
    /// The first TCP address the server listens on; nil when it listens on none (`listen_addresses=''`).
    let listenAddress: String?

    static func url(in dataDirectory: URL) -> URL {
        dataDirectory.appendingPathComponent("postmaster.pid")
    }

    /// The file's contents, or nil if there is no such file. A file that exists but cannot be parsed
    /// (a crash while writing it) reads as pid 0, which no running server has.
    static func read(in dataDirectory: URL) -> PostmasterPIDFile? {
        let url = url(in: dataDirectory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        func line(_ number: Int) -> String? {
            lines.count >= number && !lines[number - 1].isEmpty ? lines[number - 1] : nil
        }
        return PostmasterPIDFile(
            pid: line(1).flatMap { pid_t($0) } ?? 0,
            port: line(4).flatMap { Int($0) },
            socketDirectory: line(5),
            listenAddress: line(6))
    }

    /// Whether the recorded process is alive and is a PostgreSQL server of `dataDirectory`.
    ///
    /// `pg_ctl status` only asks whether the process id exists, which a reused id passes after a
    /// crash or reboot (in a container the id is often that of the coordinator itself), and then
    /// the server refuses to start ("lock file already exists"). So this also checks, on Linux,
    /// that the process is not a zombie, is named postgres, and works in this data directory.
    func belongsToRunningServer(dataDirectory: URL) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        #if os(Linux)
            let proc = "/proc/\(pid)"
            if let stat = try? String(contentsOfFile: "\(proc)/stat", encoding: .utf8),
                let afterName = stat.lastIndex(of: ")")
            {
                let state = stat[stat.index(after: afterName)...].trimmingCharacters(in: .whitespaces).first
                if state == "Z" || state == "X" { return false }
            }
            if let name = try? String(contentsOfFile: "\(proc)/comm", encoding: .utf8),
                !["postgres", "postmaster"].contains(name.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return false
            }
            // The server's working directory is its data directory; unreadable for other users'
            // processes unless root, in which case the name check has to do.
            if let workingDirectory = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(proc)/cwd") {
                let expected = dataDirectory.resolvingSymlinksInPath().path
                return URL(fileURLWithPath: workingDirectory).resolvingSymlinksInPath().path == expected
            }
        #endif
        return true
    }
}
