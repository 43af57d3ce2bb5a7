import Foundation

/// How one attempt ended, as the worker saw it.
public enum RunOutcome: String, Codable, Sendable, CaseIterable {
    /// Exit status 0 and valid metrics.
    case succeeded
    /// Non-zero exit, bad metrics, failed environment set-up.
    case failed
    /// Killed at the time limit.
    case timedOut = "timed_out"
    /// The worker was stopped (SIGTERM) before the job ended; not the job's fault.
    case interrupted
    /// Stopped because the study was cancelled.
    case cancelled
}

/// One attempt's result, sent by the worker holding the lease.
public struct TaskResult: Codable, Sendable, Equatable {
    public var taskID: Int64
    public var leaseID: UUID
    public var outcome: RunOutcome
    public var exitCode: Int?
    public var durationSeconds: Double
    public var metrics: [String: Double]
    public var error: String?
    /// The last 64 KiB of the job's combined output.
    public var logTail: String?
    /// Environment fingerprint as JSON (OS, CPU, GPU, Python and package versions).
    public var fingerprint: JSONValue?
    /// Hardware class (CPU model, GPU models) for the variance split by hardware.
    public var hardwareClass: String?
    /// Parameters the job logged with MLflow (`mlflow.log_param`), kept with the run; nil: none.
    public var params: [String: String]?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case leaseID = "lease_id"
        case outcome
        case exitCode = "exit_code"
        case durationSeconds = "duration_seconds"
        case metrics, error
        case logTail = "log_tail"
        case fingerprint
        case hardwareClass = "hardware_class"
        case params
    }

    /// Creates a result.
    public init(
        taskID: Int64, leaseID: UUID, outcome: RunOutcome, exitCode: Int?, durationSeconds: Double,
        metrics: [String: Double], error: String?, logTail: String?, fingerprint: JSONValue?, hardwareClass: String?,
        params: [String: String]? = nil
    ) {
        self.params = params
        self.taskID = taskID
        self.leaseID = leaseID
        self.outcome = outcome
        self.exitCode = exitCode
        self.durationSeconds = durationSeconds
        self.metrics = metrics
        self.error = error
        self.logTail = logTail
        self.fingerprint = fingerprint
        self.hardwareClass = hardwareClass
    }
}

/// Body of `POST /v1/results`: one or more results (a worker flushes its spool in one request).
public struct ResultBatch: Codable, Sendable {
    public var results: [TaskResult]

    /// Creates a batch.
    public init(results: [TaskResult]) { self.results = results }
}

/// The coordinator's answer for one result.
public struct ResultReceipt: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// A successful run, now the task's one accepted run.
        case accepted
        /// A failed attempt, recorded; the task was queued again or failed for good.
        case recorded
        /// Refused: the lease was lost (re-leased, cancelled, unknown); nothing changed. HTTP 409 alone.
        case rejected
    }

    public var taskID: Int64
    public var leaseID: UUID
    public var status: Status
    /// The task's state after this result.
    public var taskState: TaskState?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case leaseID = "lease_id"
        case status
        case taskState = "task_state"
        case detail
    }

    /// Creates a receipt.
    public init(taskID: Int64, leaseID: UUID, status: Status, taskState: TaskState?, detail: String?) {
        self.taskID = taskID
        self.leaseID = leaseID
        self.status = status
        self.taskState = taskState
        self.detail = detail
    }

}

/// Answer to `POST /v1/results`: one receipt per result, in order.
public struct ResultBatchReceipt: Codable, Sendable {
    public var results: [ResultReceipt]

    /// Creates the answer.
    public init(results: [ResultReceipt]) { self.results = results }
}
