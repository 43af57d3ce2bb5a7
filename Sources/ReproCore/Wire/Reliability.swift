import Foundation

/// How far a worker's results agree with other workers' replicas of the same seeds, and whether it is
/// quarantined (`GET /v1/workers`, `GET /v1/workers/{id}`).
public struct WorkerReliability: Codable, Sendable, Equatable {
    public var workerID: UUID
    public var name: String
    public var ownerAccountID: UUID
    public var lastSeenAt: Date
    /// Accepted runs of this worker (excluded ones not counted).
    public var accepted: Int
    /// Replicas checked against their seed group, and how they came out.
    public var agreeing: Int
    public var disagreeing: Int
    /// Agreeing checks since the last disagreement (BOINC's consecutive valid results).
    public var consecutiveAgreeing: Int
    /// disagreeing / (agreeing + disagreeing); nil before the first check.
    public var disagreementRate: Double?
    /// Runs kept but excluded from reports and scores because of a quarantine.
    public var excludedRuns: Int
    /// The active quarantine that covers this worker (its own or its account's), if any.
    public var quarantine: QuarantineStatus?

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case name
        case ownerAccountID = "owner_account_id"
        case lastSeenAt = "last_seen_at"
        case accepted, agreeing, disagreeing
        case consecutiveAgreeing = "consecutive_agreeing"
        case disagreementRate = "disagreement_rate"
        case excludedRuns = "excluded_runs"
        case quarantine
    }

    /// Creates a row.
    public init(
        workerID: UUID, name: String, ownerAccountID: UUID, lastSeenAt: Date, accepted: Int, agreeing: Int,
        disagreeing: Int, consecutiveAgreeing: Int, excludedRuns: Int, quarantine: QuarantineStatus?
    ) {
        self.workerID = workerID
        self.name = name
        self.ownerAccountID = ownerAccountID
        self.lastSeenAt = lastSeenAt
        self.accepted = accepted
        self.agreeing = agreeing
        self.disagreeing = disagreeing
        self.consecutiveAgreeing = consecutiveAgreeing
        let checked = agreeing + disagreeing
        self.disagreementRate = checked == 0 ? nil : Double(disagreeing) / Double(checked)
        self.excludedRuns = excludedRuns
        self.quarantine = quarantine
    }
}

/// A list of workers with their reliability.
public struct WorkerList: Codable, Sendable, Equatable {
    public var workers: [WorkerReliability]

    /// Creates the list.
    public init(workers: [WorkerReliability]) { self.workers = workers }
}

/// An active quarantine of a worker or of a whole volunteer account.
public struct QuarantineStatus: Codable, Sendable, Equatable {
    /// `worker` or `account`.
    public var scope: String
    public var id: Int64
    public var reason: String
    /// The admin who quarantined; nil for the automatic rule.
    public var createdBy: UUID?
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case scope, id, reason
        case createdBy = "created_by"
        case createdAt = "created_at"
    }

    /// Creates a status.
    public init(scope: String, id: Int64, reason: String, createdBy: UUID?, createdAt: Date) {
        self.scope = scope
        self.id = id
        self.reason = reason
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// The body of a quarantine or release request.
public struct QuarantineRequest: Codable, Sendable, Equatable {
    public var reason: String

    /// Creates a request.
    public init(reason: String) { self.reason = reason }
}

/// What a quarantine or release did.
public struct QuarantineOutcome: Codable, Sendable, Equatable {
    public var quarantineID: Int64
    /// `quarantine` or `release`.
    public var action: String
    public var workers: [UUID]
    public var runsExcluded: Int
    public var runsRestored: Int
    public var runsSuperseded: Int
    public var tasksRequeued: Int

    enum CodingKeys: String, CodingKey {
        case quarantineID = "quarantine_id"
        case action, workers
        case runsExcluded = "runs_excluded"
        case runsRestored = "runs_restored"
        case runsSuperseded = "runs_superseded"
        case tasksRequeued = "tasks_requeued"
    }

    /// Creates an outcome.
    public init(
        quarantineID: Int64, action: String, workers: [UUID], runsExcluded: Int, runsRestored: Int,
        runsSuperseded: Int, tasksRequeued: Int
    ) {
        self.quarantineID = quarantineID
        self.action = action
        self.workers = workers
        self.runsExcluded = runsExcluded
        self.runsRestored = runsRestored
        self.runsSuperseded = runsSuperseded
        self.tasksRequeued = tasksRequeued
    }
}

/// One entry of the append-only quarantine log.
public struct QuarantineEvent: Codable, Sendable, Equatable {
    public var id: Int64
    public var quarantineID: Int64
    public var action: String
    public var workerID: UUID?
    public var accountID: UUID?
    /// The admin who acted; nil for the automatic rule.
    public var actor: UUID?
    public var reason: String
    public var runsExcluded: Int
    public var runsRestored: Int
    public var tasksRequeued: Int
    public var at: Date

    enum CodingKeys: String, CodingKey {
        case id
        case quarantineID = "quarantine_id"
        case action
        case workerID = "worker_id"
        case accountID = "account_id"
        case actor, reason
        case runsExcluded = "runs_excluded"
        case runsRestored = "runs_restored"
        case tasksRequeued = "tasks_requeued"
        case at
    }

    /// Creates an entry.
    public init(
        id: Int64, quarantineID: Int64, action: String, workerID: UUID?, accountID: UUID?, actor: UUID?,
        reason: String, runsExcluded: Int, runsRestored: Int, tasksRequeued: Int, at: Date
    ) {
        self.id = id
        self.quarantineID = quarantineID
        self.action = action
        self.workerID = workerID
        self.accountID = accountID
        self.actor = actor
        self.reason = reason
        self.runsExcluded = runsExcluded
        self.runsRestored = runsRestored
        self.tasksRequeued = tasksRequeued
        self.at = at
    }
}

/// The quarantine log, newest first.
public struct QuarantineEventList: Codable, Sendable, Equatable {
    public var events: [QuarantineEvent]

    /// Creates the list.
    public init(events: [QuarantineEvent]) { self.events = events }
}
