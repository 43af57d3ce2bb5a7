/// Why a job could not be started.
///
/// A job that starts and then fails is not an error: it is a
/// ``JobRunner/Outcome`` with a non-zero exit status.
public struct JobRunnerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to it.
    public enum Code: Sendable, Equatable {
        /// The executable is not a path to an executable file, nor on the job's `PATH`.
        case executableNotFound
        /// The working directory does not exist or is not a directory.
        case workingDirectoryNotFound
        /// An argument or environment entry cannot be passed to a process (NUL byte, `=` in a name).
        case invalidJob
        /// The operating system refused to start the process.
        case spawnFailed
        /// `run` was called a second time on the same runner.
        case alreadyStarted
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    /// The `errno` behind a ``Code/spawnFailed``, if there is one.
    public let errorNumber: Int32?

    /// Creates an error with a message for people.
    public init(_ code: Code, _ message: String, errorNumber: Int32? = nil) {
        self.code = code
        self.message = message
        self.errorNumber = errorNumber
    }

    public var description: String { message }
}
