/// Why content could not be stored in or read from a ``ContentCache``.
public struct ContentCacheError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The content's SHA-256 is not the expected one.
        case hashMismatch
        /// The hash given is not 64 hexadecimal digits.
        case invalidHash
        /// The file system refused.
        case ioFailed
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong, for people.
    public let message: String

    /// Creates an error with a message for people.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
