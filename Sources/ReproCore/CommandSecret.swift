import Foundation
import Logging

/// A secret a command takes (a key or token) from, in order: its command-line option, a file, or an
/// environment variable.
///
/// The option still works, but a command line is readable by every user of the machine through
/// `ps` and `/proc/<pid>/cmdline`, so using it logs a warning naming the safer ways.
public enum CommandSecret {
    /// The secret, or nil when none of the three gives one.
    ///
    /// - Throws: ``CommandSecretError`` naming the file when it cannot be read or holds nothing.
    public static func read(
        option: String?, optionName: String, file: String?, fileOptionName: String, environmentName: String,
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) throws -> String? {
        if let option, !option.isEmpty {
            logger.warning(
                "\(optionName) puts the secret on the command line, where every user of this machine can read it; use $\(environmentName) or \(fileOptionName) instead"
            )
            return option
        }
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CommandSecretError(description: "\(fileOptionName) \(file): cannot be read (\(error.localizedDescription))")
            }
            let firstLine = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
            let secret = firstLine.trimmingCharacters(in: .whitespaces)
            guard !secret.isEmpty else {
                throw CommandSecretError(description: "\(fileOptionName) \(file): line 1 is empty; put the secret on the first line")
            }
            return secret
        }
        if let value = environment[environmentName], !value.isEmpty { return value }
        return nil
    }
}

/// A secret that was named but could not be read, with the file at fault.
public struct CommandSecretError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
