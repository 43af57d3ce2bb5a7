import Foundation

/// Task states as stored and reported.
///
/// `held`: the task of a study waiting for review (decision 0007). It exists but is outside the lease
/// index (`tasks_queued` covers only `queued`), so holding it costs the lease path nothing.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    case held, queued, leased, succeeded, failed, cancelled
}

/// Study states: `pending_review` until a moderator approves (`running`) or rejects (`rejected`) it,
/// unless it was approved at submission; `running` until its last task ends (`completed`) or it is cancelled.
public enum StudyState: String, Codable, Sendable {
    case pendingReview = "pending_review"
    case running, completed, cancelled, rejected

    /// Whether the study reached an end state (nothing more will run).
    public var isFinal: Bool { self == .completed || self == .cancelled || self == .rejected }
}

/// Counts of a study's tasks by state.
public struct TaskCounts: Codable, Sendable, Equatable {
    public var held = 0
    public var queued = 0
    public var leased = 0
    public var succeeded = 0
    public var failed = 0
    public var cancelled = 0

    /// Creates empty counts.
    public init() {}

    enum CodingKeys: String, CodingKey { case held, queued, leased, succeeded, failed, cancelled }

    /// Decodes counts; `held` may be missing (answers of coordinators before moderation existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        held = try container.decodeIfPresent(Int.self, forKey: .held) ?? 0
        queued = try container.decode(Int.self, forKey: .queued)
        leased = try container.decode(Int.self, forKey: .leased)
        succeeded = try container.decode(Int.self, forKey: .succeeded)
        failed = try container.decode(Int.self, forKey: .failed)
        cancelled = try container.decode(Int.self, forKey: .cancelled)
    }

    /// All tasks.
    public var total: Int { held + queued + leased + succeeded + failed + cancelled }
    /// Tasks that reached an end state.
    public var finished: Int { succeeded + failed + cancelled }

    /// Adds `count` tasks in `state`.
    public mutating func add(_ state: TaskState, _ count: Int) {
        switch state {
        case .held: held += count
        case .queued: queued += count
        case .leased: leased += count
        case .succeeded: succeeded += count
        case .failed: failed += count
        case .cancelled: cancelled += count
        }
    }
}

/// A study as `GET /v1/studies/{id}` answers: its state and progress.
public struct StudyStatus: Codable, Sendable {
    public var id: UUID
    public var preprintID: String
    public var title: String
    public var state: StudyState
    public var specSHA256: String
    public var createdAt: Date
    public var completedAt: Date?
    public var taskCount: Int
    public var tasks: TaskCounts
    /// How the study was approved, or why it was rejected (decision 0007); nil for studies stored
    /// before moderation existed.
    public var review: StudyReview?
    /// The seeds of an adaptive study so far and its plan (`task_count` grows up to `max_task_count`); nil
    /// for a study with a fixed seed list.
    public var adaptive: AdaptiveProgress?

    enum CodingKeys: String, CodingKey {
        case id
        case preprintID = "preprint_id"
        case title, state
        case specSHA256 = "spec_sha256"
        case createdAt = "created_at"
        case completedAt = "completed_at"
        case taskCount = "task_count"
        case tasks, review, adaptive
    }

    /// Creates a status.
    public init(
        id: UUID, preprintID: String, title: String, state: StudyState, specSHA256: String, createdAt: Date,
        completedAt: Date?, taskCount: Int, tasks: TaskCounts, review: StudyReview? = nil
    ) {
        self.review = review
        self.id = id
        self.preprintID = preprintID
        self.title = title
        self.state = state
        self.specSHA256 = specSHA256
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.taskCount = taskCount
        self.tasks = tasks
    }

    /// True once the study ended (completed, cancelled or rejected): a study waiting for review is not finished.
    public var isFinished: Bool { state.isFinal }
}

/// Answer to `POST /v1/bundles`: the content address of an uploaded code bundle.
public struct BundleUploaded: Codable, Sendable {
    public var sha256: String
    public var size: Int

    /// Creates the answer.
    public init(sha256: String, size: Int) {
        self.sha256 = sha256
        self.size = size
    }
}

/// One attempt's outcome as `GET /v1/studies/{id}/runs` lists it.
public struct RunRecord: Codable, Sendable {
    public var id: Int64
    public var taskID: Int64
    public var dataset: String
    public var seed: Int64
    public var configuration: String?
    public var replica: Int
    public var attempt: Int
    public var outcome: RunOutcome
    public var accepted: Bool
    public var workerID: UUID
    public var exitCode: Int?
    public var durationSeconds: Double
    public var metrics: [String: Double]
    public var error: String?
    public var hardwareClass: String?
    public var createdAt: Date
    /// The isolation the worker reported in the run's fingerprint; nil from coordinators before it.
    public var isolation: RunIsolation?
    /// Parameters the job logged with MLflow (`mlflow.log_param`); nil when it logged none.
    public var params: [String: String]?

    enum CodingKeys: String, CodingKey {
        case id
        case taskID = "task_id"
        case dataset, seed, configuration, replica, attempt, outcome, accepted
        case workerID = "worker_id"
        case exitCode = "exit_code"
        case durationSeconds = "duration_seconds"
        case metrics, error
        case hardwareClass = "hardware_class"
        case createdAt = "created_at"
        case isolation, params
    }

    /// Creates a record.
    public init(
        id: Int64, taskID: Int64, dataset: String, seed: Int64, configuration: String?, replica: Int, attempt: Int,
        outcome: RunOutcome, accepted: Bool, workerID: UUID, exitCode: Int?, durationSeconds: Double,
        metrics: [String: Double], error: String?, hardwareClass: String?, createdAt: Date,
        isolation: RunIsolation? = nil
    ) {
        self.id = id
        self.taskID = taskID
        self.dataset = dataset
        self.seed = seed
        self.configuration = configuration
        self.replica = replica
        self.attempt = attempt
        self.outcome = outcome
        self.accepted = accepted
        self.workerID = workerID
        self.exitCode = exitCode
        self.durationSeconds = durationSeconds
        self.metrics = metrics
        self.error = error
        self.hardwareClass = hardwareClass
        self.createdAt = createdAt
        self.isolation = isolation
    }
}

/// A page of runs.
public struct RunList: Codable, Sendable {
    public var runs: [RunRecord]

    /// Creates a list.
    public init(runs: [RunRecord]) { self.runs = runs }
}

/// Answer to `POST /v1/studies`.
public struct StudyCreated: Codable, Sendable {
    public var id: UUID
    public var preprintID: String
    public var taskCount: Int
    public var specSHA256: String
    /// True when the same account had already submitted this exact spec and that study (running or
    /// completed) is returned instead of a new one: nothing is run twice by accident.
    public var existing: Bool
    /// `running` when approved at submission, `pending_review` when a moderator must approve it first.
    public var state: StudyState?
    /// What the submitter should know but that did not stop the study, such as a spec whose preprint
    /// metadata differs from the stored one (kept when another account owns it).
    public var warnings: [String]?

    enum CodingKeys: String, CodingKey {
        case id
        case preprintID = "preprint_id"
        case taskCount = "task_count"
        case specSHA256 = "spec_sha256"
        case existing, state, warnings
    }

    /// Creates the answer.
    public init(
        id: UUID, preprintID: String, taskCount: Int, specSHA256: String, existing: Bool = false, state: StudyState? = nil,
        warnings: [String]? = nil
    ) {
        self.warnings = warnings
        self.state = state
        self.id = id
        self.preprintID = preprintID
        self.taskCount = taskCount
        self.specSHA256 = specSHA256
        self.existing = existing
    }
}
