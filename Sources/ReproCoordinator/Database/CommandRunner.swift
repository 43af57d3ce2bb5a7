import Foundation

/// The exit status and combined output of a finished command.
struct CommandResult: Sendable {
    var status: Int32
    var output: String
    var succeeded: Bool { status == 0 }
}

/// Runs the PostgreSQL server tools, optionally as another user, and captures what they print.
///
/// `pg_ctl start` leaves a daemon behind, which inherits every descriptor its parents had open. On
/// Linux, Foundation's `Process` learns that a child ended when a socket it hands the child reaches
/// end-of-file, so a daemon holding that socket means the termination handler never runs (seen here:
/// the test hung with `runuser <defunct>`). Each command therefore runs under a small bash wrapper
/// that closes every inherited descriptor above 2 for the command only, waits for it and passes its
/// status on. For the same reason output goes to a temporary file, never a pipe.
enum CommandRunner {
    /// Closes descriptors 3 and up (listed in /proc, or /dev/fd elsewhere) for "$@", then runs it.
    private static let closeInheritedDescriptors = #"""
        dir=/proc/$$/fd; [ -d "$dir" ] || dir=/dev/fd
        closes=""
        for fd in "$dir"/*; do
            fd=${fd##*/}
            case $fd in *[!0-9]*|'') continue ;; esac
            [ "$fd" -gt 2 ] && closes+=" $fd>&-"
        done
        eval "\"\$@\"$closes"
        """#

    /// Runs `executable` with `arguments`, as `user` via runuser when given, from `/` so tools started
    /// as another user never complain that they cannot enter the caller's directory.
    static func run(_ executable: String, _ arguments: [String], as user: String? = nil) async throws -> CommandResult {
        var executable = executable
        var arguments = arguments
        if let user {
            arguments = ["-u", user, "--", executable] + arguments
            executable = try runuserPath()
        }
        let command = executable
        arguments = ["-c", closeInheritedDescriptors, "reprogrid-command", executable] + arguments
        executable = "/bin/bash"
        let outputURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("reprogrid-command-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw DatabaseSetupError(.commandFailed, "cannot create \(outputURL.path) to capture command output")
        }
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let outputHandle = try FileHandle(forWritingTo: outputURL)
        defer { try? outputHandle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outputHandle
        process.standardError = outputHandle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                continuation.resume(returning: finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(
                    throwing: DatabaseSetupError(
                        .commandFailed, "cannot run \(command): \(error.localizedDescription)"))
            }
        }
        let output = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        return CommandResult(status: status, output: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Like ``run(_:_:as:)`` but throws, with the command's output, unless it exits with status 0.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String], as user: String? = nil, doing task: String)
        async throws -> CommandResult
    {
        let result = try await run(executable, arguments, as: user)
        guard result.succeeded else {
            let command = ([executable] + arguments).joined(separator: " ")
            throw DatabaseSetupError(
                .commandFailed,
                "\(task) failed: `\(command)`\(user.map { " (as \($0))" } ?? "") exited with status \(result.status):\n"
                    + result.output)
        }
        return result
    }

    private static func runuserPath() throws -> String {
        for candidate in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw DatabaseSetupError(
            .commandFailed,
            "runuser not found: it is needed to run PostgreSQL as an unprivileged user when started as root; "
                + "install util-linux (apt-get install util-linux) or run the coordinator as a normal user")
    }
}
