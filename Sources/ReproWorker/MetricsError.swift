/// Why a job's metrics could not be read. The message names the file or the
/// output line and says what is wrong with it, for the volunteer and the
/// researcher alike.
public struct MetricsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: Sendable, Equatable {
        /// `metrics.json` exists but cannot be read, or is too large.
        case unreadableFile
        /// `metrics.json` is not a JSON object.
        case malformedFile
        /// A `REPRO_METRIC` line is not `name=number`.
        case malformedLine
        /// A metric name does not match `[A-Za-z_][A-Za-z0-9_.-]{0,63}`.
        case invalidName
        /// A value is not a number, or is NaN or infinite.
        case invalidValue
        /// The job reported no metric at all.
        case noMetrics
        /// The job reported more metrics than the coordinator accepts for one run.
        case tooManyMetrics
        /// MLflow and `metrics.json`/`REPRO_METRIC` lines give one metric different values.
        case conflictingValues
    }

    /// The kind of problem.
    public let code: Code
    /// What is wrong and where, e.g. `metrics.json: value of "accuracy" is not a finite number`.
    public let message: String

    /// Creates an error with a message for people.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
