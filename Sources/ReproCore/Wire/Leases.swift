import Foundation

/// Body of `POST /v1/workers`: a volunteer registers one worker process and its capacity.
public struct WorkerRegistration: Codable, Sendable {
    public var name: String
    public var slots: Int
    public var cpus: Int
    public var memoryBytes: Int64
    public var gpus: Int
    /// Hardware class derived from the fingerprint (CPU model, GPU models); groups replicas by hardware.
    public var hardwareClass: String?

    enum CodingKeys: String, CodingKey {
        case name, slots, cpus
        case memoryBytes = "memory_bytes"
        case gpus
        case hardwareClass = "hardware_class"
    }

    /// Creates a registration.
    public init(name: String, slots: Int, cpus: Int, memoryBytes: Int64, gpus: Int, hardwareClass: String?) {
        self.name = name
        self.slots = slots
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.hardwareClass = hardwareClass
    }
}

/// Answer to registration: the worker's own token (shown once, stored hashed).
public struct WorkerRegistered: Codable, Sendable {
    public var workerID: UUID
    public var token: String

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case token
    }

    /// Creates the answer.
    public init(workerID: UUID, token: String) {
        self.workerID = workerID
        self.token = token
    }
}

/// Body of `POST /v1/leases`.
public struct LeaseRequest: Codable, Sendable {
    /// Most tasks to lease at once (1...50); a worker with N slots asks for its free slots.
    public var max: Int
    /// Seconds to wait for a task when none is queued (0...30): the long-poll.
    public var wait: Double
    /// Whether the worker's volunteer lets jobs use the network (`repro-worker --allow-network`). Tasks
    /// of studies with `run.network: true` are leased only to requests that say so; optional in
    /// JSON, false when missing.
    public var allowNetwork: Bool
    /// The leases the worker holds (jobs running, results not yet acknowledged), sent when an earlier
    /// lease answer may have been lost: after a failed or unanswered request, and on the first request
    /// after the worker starts. Tasks leased to this worker that are not in the list are sent again
    /// (decision 0016). Missing (the usual case) means "nothing lost", and costs no statement.
    public var held: [UUID]?
    /// The most lease ids `held` may list (the coordinator answers more with 400).
    public static let maxHeld = 5000

    enum CodingKeys: String, CodingKey {
        case max, wait, held
        case allowNetwork = "allow_network"
    }

    /// Creates a request.
    public init(max: Int, wait: Double, allowNetwork: Bool = false, held: [UUID]? = nil) {
        self.max = max
        self.wait = wait
        self.allowNetwork = allowNetwork
        self.held = held
    }

    /// Decodes a request; `allow_network` may be missing (workers before it existed), meaning false.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        max = try container.decode(Int.self, forKey: .max)
        wait = try container.decode(Double.self, forKey: .wait)
        allowNetwork = try container.decodeIfPresent(Bool.self, forKey: .allowNetwork) ?? false
        held = try container.decodeIfPresent([UUID].self, forKey: .held)
    }
}

/// Where a task's code comes from.
public struct CodeReference: Codable, Sendable, Hashable {
    /// sha256 of an uploaded bundle (download it from `/v1/bundles/{sha256}`).
    public var bundleSHA256: String?
    public var gitURL: String?
    public var gitCommit: String?

    enum CodingKeys: String, CodingKey {
        case bundleSHA256 = "bundle_sha256"
        case gitURL = "git_url"
        case gitCommit = "git_commit"
    }

    /// Creates a reference.
    public init(bundleSHA256: String? = nil, gitURL: String? = nil, gitCommit: String? = nil) {
        self.bundleSHA256 = bundleSHA256
        self.gitURL = gitURL
        self.gitCommit = gitCommit
    }
}

/// The per-study part of what a worker needs to run a task: stored once per study, sent with every lease.
public struct JobSpec: Codable, Sendable, Hashable {
    public var code: CodeReference
    /// Path of the Python requirements file inside the code, when the study uses one.
    public var requirements: String?
    public var timeoutSeconds: Int
    public var memoryBytes: Int64
    public var cpus: Int
    public var gpus: Int
    /// Whether the job may use the network (`run.network: true`); leased only to workers that allow it.
    /// Without it the worker runs the job with no network at all.
    public var network: Bool
    /// The study's declared metric ranges (`metrics` in the spec), so the worker reports an implausible
    /// value as a failed attempt itself; the coordinator checks again. Nil (left out) when none is declared.
    public var metricRanges: [String: MetricRange]?

    enum CodingKeys: String, CodingKey {
        case code, requirements
        case timeoutSeconds = "timeout_seconds"
        case memoryBytes = "memory_bytes"
        case cpus, gpus, network
        case metricRanges = "metric_ranges"
    }

    /// Creates a job spec.
    public init(
        code: CodeReference, requirements: String?, timeoutSeconds: Int, memoryBytes: Int64, cpus: Int, gpus: Int,
        network: Bool = false, metricRanges: [String: MetricRange]? = nil
    ) {
        self.metricRanges = metricRanges
        self.code = code
        self.requirements = requirements
        self.timeoutSeconds = timeoutSeconds
        self.memoryBytes = memoryBytes
        self.cpus = cpus
        self.gpus = gpus
        self.network = network
    }

    /// Decodes a job spec; `network` may be missing, as in the jobs of studies stored before it existed,
    /// and means false.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(CodeReference.self, forKey: .code)
        requirements = try container.decodeIfPresent(String.self, forKey: .requirements)
        timeoutSeconds = try container.decode(Int.self, forKey: .timeoutSeconds)
        memoryBytes = try container.decode(Int64.self, forKey: .memoryBytes)
        cpus = try container.decode(Int.self, forKey: .cpus)
        gpus = try container.decode(Int.self, forKey: .gpus)
        network = try container.decodeIfPresent(Bool.self, forKey: .network) ?? false
        metricRanges = try container.decodeIfPresent([String: MetricRange].self, forKey: .metricRanges)
    }
}

/// One leased task.
public struct TaskLease: Codable, Sendable, Equatable {
    public var taskID: Int64
    public var leaseID: UUID
    public var studyID: UUID
    public var dataset: String
    public var seed: Int64
    public var configuration: String?
    public var replica: Int
    public var attempt: Int
    /// The command with `{seed}`, `{dataset}` and configuration placeholders already substituted. The worker
    /// rebuilds it from the signed ``manifest`` when there is one; on the coordinator it is then left empty,
    /// as the answer does not carry it (decision 0014).
    public var arguments: [String]
    public var job: JobSpec
    public var leaseExpiresAt: Date
    /// The study's signed manifest (decision 0007): the worker runs only what it says, and only when
    /// ``signature`` verifies with a key it pinned. Missing for studies stored before signing existed,
    /// which workers refuse.
    public var manifest: JobManifest?
    public var signature: ManifestSignature?

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case leaseID = "lease_id"
        case studyID = "study_id"
        case dataset, seed, configuration, replica, attempt, arguments, job
        case leaseExpiresAt = "lease_expires_at"
        case manifest, signature
    }

    /// Creates a lease.
    public init(
        taskID: Int64, leaseID: UUID, studyID: UUID, dataset: String, seed: Int64, configuration: String?, replica: Int,
        attempt: Int, arguments: [String], job: JobSpec, leaseExpiresAt: Date, manifest: JobManifest? = nil,
        signature: ManifestSignature? = nil
    ) {
        self.manifest = manifest
        self.signature = signature
        self.taskID = taskID
        self.leaseID = leaseID
        self.studyID = studyID
        self.dataset = dataset
        self.seed = seed
        self.configuration = configuration
        self.replica = replica
        self.attempt = attempt
        self.arguments = arguments
        self.job = job
        self.leaseExpiresAt = leaseExpiresAt
    }
}

/// Answer to `POST /v1/leases`: zero or more leases.
///
/// On the wire each study's job, manifest and signature travel once, in `studies`, and a lease carries
/// only what is its own (ids, dataset, seed, configuration, replica). Its command is not sent either
/// when its study has a manifest: the worker rebuilds it from the signed manifest, which it must check
/// anyway (decision 0014). So the answer's size no longer grows with the command's length times the
/// batch (issue 11, defect 9). Decoding also reads the older form, with everything in each lease.
public struct LeaseResponse: Codable, Sendable {
    public var leases: [TaskLease]
    /// How often the worker should heartbeat its leases.
    public var heartbeatIntervalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case leases, studies
        case heartbeatIntervalSeconds = "heartbeat_interval_seconds"
    }

    /// Creates the answer.
    public init(leases: [TaskLease], heartbeatIntervalSeconds: Double) {
        self.leases = leases
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
    }

    /// What every lease of one study shares.
    struct StudyJob: Codable, Hashable, Sendable {
        var studyID: UUID
        var job: JobSpec
        var manifest: JobManifest?
        var signature: ManifestSignature?

        enum CodingKeys: String, CodingKey {
            case studyID = "study_id"
            case job, manifest, signature
        }
    }

    /// A lease as it travels: the shared parts optional (present only in the older form), `arguments`
    /// only when there is no manifest to rebuild them from.
    struct WireLease: Codable {
        var taskID: Int64
        var leaseID: UUID
        var studyID: UUID
        var dataset: String
        var seed: Int64
        var configuration: String?
        var replica: Int
        var attempt: Int
        var arguments: [String]?
        var job: JobSpec?
        var leaseExpiresAt: Date
        var manifest: JobManifest?
        var signature: ManifestSignature?

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case leaseID = "lease_id"
            case studyID = "study_id"
            case dataset, seed, configuration, replica, attempt, arguments, job
            case leaseExpiresAt = "lease_expires_at"
            case manifest, signature
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        heartbeatIntervalSeconds = try container.decode(Double.self, forKey: .heartbeatIntervalSeconds)
        let shared = try container.decodeIfPresent([StudyJob].self, forKey: .studies) ?? []
        leases = try Self.leases(try container.decode([WireLease].self, forKey: .leases), shared: shared)
    }

    /// Whole leases from their wire form and their studies' shared parts (also ``scanned(from:)``'s).
    static func leases(_ wires: [WireLease], shared: [StudyJob]) throws -> [TaskLease] {
        let byStudy = Dictionary(shared.map { ($0.studyID, $0) }, uniquingKeysWith: { first, _ in first })
        return try wires.enumerated().map { index, wire in
            let study = byStudy[wire.studyID]
            guard let job = wire.job ?? study?.job else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: [CodingKeys.leases], debugDescription: "lease \(index) has no job and its study none in studies"))
            }
            let manifest = wire.manifest ?? study?.manifest
            // A lease whose dataset or configuration is not in the manifest gets no command: the worker's
            // manifest check refuses it with that reason.
            let arguments =
                wire.arguments
                ?? manifest?.arguments(seed: wire.seed, dataset: wire.dataset, configuration: wire.configuration) ?? []
            return TaskLease(
                taskID: wire.taskID, leaseID: wire.leaseID, studyID: wire.studyID, dataset: wire.dataset, seed: wire.seed,
                configuration: wire.configuration, replica: wire.replica, attempt: wire.attempt, arguments: arguments,
                job: job, leaseExpiresAt: wire.leaseExpiresAt, manifest: manifest,
                signature: wire.signature ?? study?.signature)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(heartbeatIntervalSeconds, forKey: .heartbeatIntervalSeconds)
        try container.encode(Self.studies(of: leases), forKey: .studies)
        try container.encode(
            leases.map { lease in
                WireLease(
                    taskID: lease.taskID, leaseID: lease.leaseID, studyID: lease.studyID, dataset: lease.dataset,
                    seed: lease.seed, configuration: lease.configuration, replica: lease.replica, attempt: lease.attempt,
                    arguments: lease.manifest == nil ? lease.arguments : nil, job: nil, leaseExpiresAt: lease.leaseExpiresAt)
            }, forKey: .leases)
    }

    /// One entry per study, in the order its first lease appears.
    static func studies(of leases: [TaskLease]) -> [StudyJob] {
        var seen = Set<UUID>()
        return leases.compactMap { lease in
            guard seen.insert(lease.studyID).inserted else { return nil }
            return StudyJob(studyID: lease.studyID, job: lease.job, manifest: lease.manifest, signature: lease.signature)
        }
    }

    /// The encoded size of the leases' shared and own parts, without encoding the whole answer: what
    /// the coordinator checks against its cap on a lease answer, lease by lease (``wireBytes(of:)``).
    public static func wireBytes(of leases: [TaskLease]) -> [Int] {
        var seen = Set<UUID>()
        return leases.map { lease in
            var bytes = 200 + (lease.manifest == nil ? lease.arguments.reduce(0) { $0 + $1.utf8.count + 3 } : 0)
            if seen.insert(lease.studyID).inserted {
                let shared = StudyJob(
                    studyID: lease.studyID, job: lease.job, manifest: lease.manifest, signature: lease.signature)
                bytes += (try? encoded(shared).count) ?? 0
            }
            return bytes
        }
    }

    /// The encoded study parts the coordinator sends, kept per value (``WireMemo``): every batch of a study
    /// sends the same one, and this answer encodes it twice (its size for the cap, then the bytes).
    private static let sharedEncodings = WireMemo<StudyJob, Data>(capacity: 64)

    /// One study's shared part as ``WireCoding/encodeNullingNonFinite(_:)`` writes it; an array of them is
    /// these bytes joined by commas in brackets, as that encoder writes the array.
    static func encoded(_ shared: StudyJob) throws -> Data {
        try sharedEncodings.value(for: shared) { try WireCoding.encodeNullingNonFinite(shared).data }
    }

    /// The `studies` member as a lease answer's reader decodes it, kept per bytes: a worker reads the same
    /// study's part in every answer (``JSONScanner/leaseMembers(other:)``).
    static let sharedDecodings = WireMemo<Data, [StudyJob]>(capacity: 16)
}

/// Body of `POST /v1/leases/heartbeat`: all of a worker's running leases in one request.
public struct HeartbeatRequest: Codable, Sendable {
    public var leases: [Beat]

    /// One lease still being worked on.
    public struct Beat: Codable, Sendable {
        public var taskID: Int64
        public var leaseID: UUID
        /// A short progress note (last output line, percentage).
        public var progress: String?

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case leaseID = "lease_id"
            case progress
        }

        /// Creates a beat.
        public init(taskID: Int64, leaseID: UUID, progress: String?) {
            self.taskID = taskID
            self.leaseID = leaseID
            self.progress = progress
        }
    }

    /// Creates a request.
    public init(leases: [Beat]) { self.leases = leases }
}

/// Answer to a heartbeat: per lease, go on or stop (cancelled study, lost lease).
public struct HeartbeatResponse: Codable, Sendable {
    public var leases: [Verdict]

    /// The coordinator's word on one lease.
    public struct Verdict: Codable, Sendable {
        public enum Action: String, Codable, Sendable { case `continue`, stop }
        public var taskID: Int64
        public var leaseID: UUID
        public var action: Action
        public var reason: String?
        public var leaseExpiresAt: Date?

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id"
            case leaseID = "lease_id"
            case action, reason
            case leaseExpiresAt = "lease_expires_at"
        }

        /// Creates a verdict.
        public init(taskID: Int64, leaseID: UUID, action: Action, reason: String?, leaseExpiresAt: Date?) {
            self.taskID = taskID
            self.leaseID = leaseID
            self.action = action
            self.reason = reason
            self.leaseExpiresAt = leaseExpiresAt
        }
    }

    /// Creates the answer.
    public init(leases: [Verdict]) { self.leases = leases }
}
