import Foundation
import ReproCore

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
    static let names = CommandSecret.Names(
        option: "--admin-key", fileOption: "--admin-key-file", environmentVariable: environmentVariable,
        noun: "the admin key")

    /// Resolves the options by the rule every secret of every command follows (``CommandSecret``).
    /// Nil when no key is given: the coordinator then generates one and prints it once.
    ///
    /// - Throws: ``CoordinatorStartupError`` naming the option at fault.
    public static func resolve(commandLine: String?, file: String?, environment: [String: String]) throws
        -> AdminKeySource?
    {
        do {
            guard let secret = try CommandSecret.resolve(
                commandLine: commandLine, file: file, environment: environment, names: names)
            else { return nil }
            return AdminKeySource(
                key: secret.value, origin: Origin(rawValue: secret.origin.rawValue)!, warnings: secret.warnings)
        } catch {
            throw CoordinatorStartupError(error.description)
        }
    }
}
