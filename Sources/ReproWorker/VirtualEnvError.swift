/// Why a virtual environment could not be built.
public struct VirtualEnvError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The requirements file cannot be read.
        case requirementsUnreadable
        /// The base Python cannot be found or does not run.
        case pythonNotFound
        /// `python -m venv` failed.
        case venvFailed
        /// `pip install` failed or timed out; ``VirtualEnvError/output`` has pip's last words.
        case installFailed
        /// The cache directory cannot be written or locked.
        case ioFailed
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, for people; for a failed step, the end of its output.
    public let message: String
    /// The end of the failed command's output, if a command failed.
    public let output: String?

    /// Creates an error with a message for people.
    public init(_ code: Code, _ message: String, output: String? = nil) {
        self.code = code
        self.message = message
        self.output = output
    }

    public var description: String { message }
}
