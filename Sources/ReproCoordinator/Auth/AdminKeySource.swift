import Foundation

/// The first admin key of `repro-coordinator serve`, and where it came from: `--admin-key-file PATH`,
/// `REPRO_ADMIN_KEY`, or `--admin-key` on the command line, which still works but is readable by
/// every local user (`ps`, `/proc/PID/cmdline`), a training job on the same machine included.
public struct AdminKeySource: Sendable, Equatable {
    /// Where a key was given.
    public enum Origin: String, Sendable {
        case file, environment, commandLine
    }

    /// The key, without surrounding whitespace.
    public var key: String
    /// Where it was given.
    public var origin: Origin
    /// Warnings to log at start: a key on the command line, a key file others may read.
    public var warnings: [String]

    /// The environment variable read when no option names a key.
    public static let environmentVariable = "REPRO_ADMIN_KEY"
    /// Largest key file read; an admin key is some 50 bytes, so anything bigger is the wrong file.
    static let maxFileBytes = 4096

    /// Resolves the options. An option given on the command line wins over the environment; both
    /// options at once are an error, as is an empty key or an unreadable file. An empty
    /// `REPRO_ADMIN_KEY` counts as unset. Nil when no key is given: the coordinator then generates one
    /// and prints it once.
    ///
    /// - Throws: ``CoordinatorStartupError`` naming the option at fault.
    public static func resolve(commandLine: String?, file: String?, environment: [String: String]) throws
        -> AdminKeySource?
    {
        switch (commandLine, file) {
        case (.some, .some):
            throw CoordinatorStartupError("give the admin key once: --admin-key or --admin-key-file, not both")
        case (.some(let key), nil):
            return AdminKeySource(
                key: try nonEmpty(key, "--admin-key"), origin: .commandLine,
                warnings: [
                    "--admin-key puts the admin key on the command line, where every local user can read it "
                        + "(ps, /proc/PID/cmdline); use --admin-key-file PATH or \(environmentVariable) instead"
                ])
        case (nil, .some(let path)):
            return try read(path)
        case (nil, nil):
            guard let key = environment[environmentVariable], !key.isEmpty else { return nil }
            return AdminKeySource(
                key: try nonEmpty(key, environmentVariable), origin: .environment, warnings: [])
        }
    }

    private static func read(_ path: String) throws -> AdminKeySource {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw CoordinatorStartupError("--admin-key-file \(path) cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maxFileBytes else {
            throw CoordinatorStartupError(
                "--admin-key-file \(path) is larger than \(maxFileBytes) bytes; it should hold only the key")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CoordinatorStartupError("--admin-key-file \(path) is not UTF-8 text")
        }
        var warnings: [String] = []
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int,
            mode & 0o077 != 0
        {
            warnings.append(
                "--admin-key-file \(path) can be read by other users (mode \(String(mode, radix: 8))); "
                    + "run `chmod 600 \(path)`")
        }
        return AdminKeySource(key: try nonEmpty(text, "--admin-key-file \(path)"), origin: .file, warnings: warnings)
    }

    /// The key without surrounding whitespace (a key file usually ends with a newline).
    private static func nonEmpty(_ text: String, _ name: String) throws -> String {
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { throw CoordinatorStartupError("\(name) is empty: give the admin key") }
        return key
    }
}
