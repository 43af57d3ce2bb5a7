import Foundation

/// A secret a command takes (a key or token) and where it came from: a file option, an environment
/// variable, or a command-line option, which still works but is readable by every local user
/// (`ps`, `/proc/PID/cmdline`), a training job on the same machine included.
///
/// One rule for every executable: `repro-coordinator --admin-key[-file]`/`REPRO_ADMIN_KEY` and
/// `repro-worker --token[-file]`/`REPRO_TOKEN`.
public struct CommandSecret: Sendable, Equatable {
    /// Where a secret was given.
    public enum Origin: String, Sendable {
        case file, environment, commandLine
    }

    /// The names under which one command takes one secret, for messages.
    public struct Names: Sendable {
        public var option: String
        public var fileOption: String
        public var environmentVariable: String
        /// What the secret is, e.g. "the admin key".
        public var noun: String

        public init(option: String, fileOption: String, environmentVariable: String, noun: String) {
            self.option = option
            self.fileOption = fileOption
            self.environmentVariable = environmentVariable
            self.noun = noun
        }
    }

    /// The secret, without surrounding whitespace.
    public var value: String
    public var origin: Origin
    /// Warnings to log at start: a secret on the command line, a file others may read.
    public var warnings: [String]

    public init(value: String, origin: Origin, warnings: [String]) {
        self.value = value
        self.origin = origin
        self.warnings = warnings
    }

    /// Largest secret file read; keys are some 50 bytes, so anything bigger is the wrong file.
    public static let maxFileBytes = 4096

    /// Resolves the options. An option wins over the environment; both options at once are an
    /// error, as is an empty secret or an unreadable file. An empty variable counts as unset. Nil when
    /// none of the three gives a secret.
    ///
    /// - Throws: ``CommandSecretError`` naming the option or file at fault.
    public static func resolve(
        commandLine: String?, file: String?, environment: [String: String], names: Names
    ) throws(CommandSecretError) -> CommandSecret? {
        switch (commandLine, file) {
        case (.some, .some):
            throw CommandSecretError(
                description: "give \(names.noun) once: \(names.option) or \(names.fileOption), not both")
        case (.some(let value), nil):
            return CommandSecret(
                value: try nonEmpty(value, names.option, names), origin: .commandLine,
                warnings: [
                    "\(names.option) puts \(names.noun) on the command line, where every local user can read it "
                        + "(ps, /proc/PID/cmdline); use \(names.fileOption) PATH or \(names.environmentVariable) instead"
                ])
        case (nil, .some(let path)):
            return try read(path, names)
        case (nil, nil):
            guard let value = environment[names.environmentVariable], !value.isEmpty else { return nil }
            return CommandSecret(
                value: try nonEmpty(value, names.environmentVariable, names), origin: .environment, warnings: [])
        }
    }

    private static func read(_ path: String, _ names: Names) throws(CommandSecretError) -> CommandSecret {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw CommandSecretError(description: "\(names.fileOption) \(path) cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maxFileBytes else {
            throw CommandSecretError(
                description: "\(names.fileOption) \(path) is larger than \(maxFileBytes) bytes; it should hold only \(names.noun)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandSecretError(description: "\(names.fileOption) \(path) is not UTF-8 text")
        }
        var warnings: [String] = []
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int,
            mode & 0o077 != 0
        {
            warnings.append(
                "\(names.fileOption) \(path) can be read by other users (mode \(String(mode, radix: 8))); "
                    + "run `chmod 600 \(path)`")
        }
        return CommandSecret(
            value: try nonEmpty(text, "\(names.fileOption) \(path)", names), origin: .file, warnings: warnings)
    }

    /// The secret without surrounding whitespace (a file usually ends with a newline).
    private static func nonEmpty(_ text: String, _ name: String, _ names: Names) throws(CommandSecretError) -> String {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw CommandSecretError(description: "\(name) is empty: give \(names.noun)") }
        return value
    }
}

/// A secret that was named but could not be used, with the option or file at fault.
public struct CommandSecretError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}
