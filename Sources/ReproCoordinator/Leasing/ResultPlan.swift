import Foundation
import ReproCore

/// What one batch of results does to the database, decided in memory from the locked task rows and
/// the runs already recorded for the batch's leases, so the writes go out as a few set-based statements.
///
/// Results are decided one after the other against a view that each decision updates (a run recorded
/// for a lease, a task that changed state), so a batch gives the same answers as sending its results
/// one by one: a lease repeated within the batch is "already received", and a second lease of one
/// task sees the state the first left.
struct ResultPlan {
    /// A task row as locked at the start of the batch transaction.
    struct TaskRow {
        var state: String
        var lease: UUID?
        var worker: UUID?
        var attempts: Int
        var maxAttempts: Int
        var study: UUID
    }

    /// A run already stored for a lease: whether it was accepted and who sent it.
    struct RecordedRun {
        var accepted: Bool
        var worker: UUID
    }

    /// A run to insert: one element of the JSON array the insert reads with `jsonb_to_recordset`
    /// (``runsJSON()``; a nil member is left out and reads as NULL).
    struct NewRun {
        var taskID: Int64
        var studyID: UUID
        var leaseID: UUID
        var attempt: Int
        var outcome: String
        var accepted: Bool
        var exitCode: Int?
        var durationSeconds: Double
        var error: String?
        var logTail: String?
        var fingerprint: JSONValue?
        var hardwareClass: String?
    }

    /// A task's new state (``changesJSON()``); `delaySeconds` is the back-off before a queued task may be
    /// leased again.
    struct TaskChange {
        var id: Int64
        var state: String
        var attempts: Int
        var lastError: String?
        var delaySeconds: Double
    }

    let worker: UUID
    let policy: LeasePolicy
    /// Declared metric ranges per study (`metrics` in the spec); studies without any are absent.
    let metricRanges: [UUID: [String: MetricRange]]
    private var tasks: [Int64: TaskRow]
    private var recorded: [UUID: RecordedRun]

    private(set) var runs: [NewRun] = []
    /// Metrics of the accepted runs, flattened for `unnest`: the run's lease, the name, the value.
    private(set) var metricLeases: [UUID] = []
    private(set) var metricNames: [String] = []
    private(set) var metricValues: [Double] = []
    /// The last change of each task (one per task: only the current lease can change a task).
    private(set) var changes: [Int64: TaskChange] = [:]
    /// Tasks that reached an end state, per study, for the study's `open_tasks`.
    private(set) var closedByStudy: [UUID: Int] = [:]
    /// Whether a task went back to the queue (waiting workers must be woken).
    private(set) var requeued = false

    init(
        worker: UUID, policy: LeasePolicy, tasks: [Int64: TaskRow], recorded: [UUID: RecordedRun],
        metricRanges: [UUID: [String: MetricRange]] = [:]
    ) {
        self.metricRanges = metricRanges
        self.worker = worker
        self.policy = policy
        self.tasks = tasks
        self.recorded = recorded
    }

    /// Decides one result and returns the receipt the worker gets.
    mutating func add(_ result: TaskResult) -> ResultReceipt {
        let taskID = result.taskID
        let leaseID = result.leaseID
        func receipt(_ status: ResultReceipt.Status, _ state: TaskState?, _ detail: String?) -> ResultReceipt {
            ResultReceipt(taskID: taskID, leaseID: leaseID, status: status, taskState: state, detail: detail)
        }
        guard let task = tasks[taskID] else { return receipt(.rejected, nil, "no such task") }
        let currentState = TaskState(rawValue: task.state)

        // A result already recorded for this lease: answer as the first time.
        if let previous = recorded[leaseID] {
            guard previous.worker == worker else { return receipt(.rejected, nil, "this lease belongs to another worker") }
            return receipt(previous.accepted ? .accepted : .recorded, currentState, "already received")
        }
        guard task.lease == leaseID, task.worker == worker else {
            return receipt(.rejected, currentState, "the lease was lost: the task was leased again after it expired")
        }
        switch currentState {
        case .leased, .queued: break
        case .cancelled: return receipt(.rejected, currentState, "the study was cancelled")
        case .held: return receipt(.rejected, currentState, "the study waits for review")
        case .succeeded: return receipt(.rejected, currentState, "the task already has an accepted result")
        case .failed: return receipt(.rejected, currentState, "the task had already failed for good")
        case nil: return receipt(.rejected, nil, "the task is in an unknown state")
        }

        // A value outside the study's declared range makes the attempt a failure, whatever the worker said:
        // it is recorded as failed with the reason and retried like any other failed attempt.
        let implausible = result.outcome == .succeeded ? Self.rangeViolation(result.metrics, metricRanges[task.study]) : nil
        let succeeded = result.outcome == .succeeded && implausible == nil
        let outcome = implausible == nil ? result.outcome : .failed
        let error = (implausible ?? result.error).map { Self.storable(String($0.prefix(4096))) }
        runs.append(
            NewRun(
                taskID: taskID, studyID: task.study, leaseID: leaseID, attempt: task.attempts,
                outcome: outcome.rawValue, accepted: succeeded, exitCode: result.exitCode,
                durationSeconds: result.durationSeconds, error: error,
                logTail: result.logTail.map { Self.storable(String($0.suffix(64 * 1024))) },
                fingerprint: result.fingerprint.map(Self.storable), hardwareClass: result.hardwareClass.map(Self.storable)))
        recorded[leaseID] = RecordedRun(accepted: succeeded, worker: worker)

        if succeeded {
            for name in result.metrics.keys.sorted() {
                metricLeases.append(leaseID)
                metricNames.append(name)
                metricValues.append(result.metrics[name]!)
            }
            change(taskID, task, to: .succeeded, attempts: task.attempts, lastError: nil, delay: 0)
            return receipt(.accepted, .succeeded, nil)
        }

        let reason = error ?? "attempt ended as \(outcome.rawValue)"
        // An interrupted job (the worker was shut down) is not the task's fault: give the attempt back.
        let attemptsAfter = outcome == .interrupted ? task.attempts - 1 : task.attempts
        if attemptsAfter >= task.maxAttempts {
            change(taskID, task, to: .failed, attempts: attemptsAfter, lastError: reason, delay: 0)
            let failed = "attempt \(task.attempts) of \(task.maxAttempts) failed; no attempt left"
            return receipt(.recorded, .failed, implausible.map { "\($0); \(failed)" } ?? failed)
        }
        let delay = outcome == .interrupted ? 0 : policy.backoff(afterAttempts: task.attempts)
        change(taskID, task, to: .queued, attempts: attemptsAfter, lastError: reason, delay: delay)
        let retry = String(format: "will be retried in %.1f s", delay)
        return receipt(.recorded, .queued, implausible.map { "\($0); \(retry)" } ?? retry)
    }

    private mutating func change(
        _ id: Int64, _ task: TaskRow, to state: TaskState, attempts: Int, lastError: String?, delay: Double
    ) {
        changes[id] = TaskChange(id: id, state: state.rawValue, attempts: attempts, lastError: lastError, delaySeconds: delay)
        var updated = task
        updated.state = state.rawValue
        updated.attempts = attempts
        tasks[id] = updated
        switch state {
        case .succeeded, .failed: closedByStudy[task.study, default: 0] += 1
        case .queued: requeued = true
        case .held, .leased, .cancelled: break
        }
    }

    /// The first metric (by name) outside its declared range, as the reason the attempt failed.
    static func rangeViolation(_ metrics: [String: Double], _ ranges: [String: MetricRange]?) -> String? {
        guard let ranges else { return nil }
        for name in metrics.keys.sorted() {
            if let reason = MetricRange.violation(metric: name, value: metrics[name]!, ranges: ranges) { return reason }
        }
        return nil
    }

    /// PostgreSQL refuses NUL in `text` and `\u0000` in `jsonb`; a job's output may contain either.
    static func storable(_ text: String) -> String {
        StorableText.replacingNUL(text)
    }

    static func storable(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(storable(text))
        case .array(let items): .array(items.map(storable))
        case .object(let members): .object(Dictionary(members.map { (storable($0.key), storable($0.value)) }, uniquingKeysWith: { first, _ in first }))
        default: value
        }
    }
}
