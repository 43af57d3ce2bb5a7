/// How one task runs: the command, its time limit, its resources and how often to retry it.
public struct RunSpec: Sendable, Hashable, Codable {
    /// Program and arguments; `{seed}`, `{dataset}`, `{config}` and configuration parameters are substituted.
    public var command: [String]
    /// Wall-clock limit for one attempt, in seconds.
    public var timeoutSeconds: Int
    /// What one attempt needs from the worker.
    public var resources: ResourceSpec
    /// Attempts per task before it counts as failed.
    public var maxAttempts: Int
    /// Whether the job needs the network (`run.network: true`, e.g. to download a dataset). Such tasks
    /// go only to workers whose volunteer allowed it (`--allow-network`); every other job runs without
    /// network access.
    public var network: Bool

    /// Creates a run description.
    public init(
        command: [String], timeoutSeconds: Int, resources: ResourceSpec = ResourceSpec(),
        maxAttempts: Int = RunSpec.defaultMaxAttempts, network: Bool = false
    ) {
        self.command = command
        self.timeoutSeconds = timeoutSeconds
        self.resources = resources
        self.maxAttempts = maxAttempts
        self.network = network
    }

    /// Accepted time limits: a second up to a week, long enough for any replication of one training run.
    public static let timeoutRange = 1...(7 * 86_400)
    /// Accepted `max_attempts`.
    public static let maxAttemptsRange = 1...20
    /// `max_attempts` when the spec leaves it out.
    public static let defaultMaxAttempts = 3

    private enum CodingKeys: String, CodingKey {
        case command
        case timeoutSeconds = "timeout"
        case resources
        case maxAttempts = "max_attempts"
        case network
    }

    /// Decodes the spec-file shape; `network` may be missing (false), as in specs stored before it existed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        command = try container.decode([String].self, forKey: .command)
        timeoutSeconds = try container.decode(Int.self, forKey: .timeoutSeconds)
        resources = try container.decode(ResourceSpec.self, forKey: .resources)
        maxAttempts = try container.decode(Int.self, forKey: .maxAttempts)
        network = try container.decodeIfPresent(Bool.self, forKey: .network) ?? false
    }

    /// Encodes the spec-file shape. `network` is written only when true, so the canonical JSON, and
    /// with it the sha256 that recognises a resubmission, of every spec without it stays what it was.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try container.encode(resources, forKey: .resources)
        try container.encode(maxAttempts, forKey: .maxAttempts)
        if network { try container.encode(true, forKey: .network) }
    }
}

/// What one task needs from the worker that runs it.
public struct ResourceSpec: Sendable, Hashable, Codable {
    /// CPU cores.
    public var cpus: Int
    /// Memory limit in bytes.
    public var memoryBytes: Int64
    /// GPUs; 0 for CPU-only tasks.
    public var gpus: Int

    /// Creates a resource description; the defaults are what the spec gets when it leaves a key out.
    public init(cpus: Int = 1, memoryBytes: Int64 = 2 << 30, gpus: Int = 0) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
    }

    /// Accepted CPU counts.
    public static let cpuRange = 1...256
    /// Accepted memory limits: 16 MiB (less cannot start Python) to 1 TiB.
    public static let memoryRange: ClosedRange<Int64> = (16 << 20)...(1 << 40)
    /// Accepted GPU counts.
    public static let gpuRange = 0...16

    private enum CodingKeys: String, CodingKey {
        case cpus
        case memoryBytes = "memory"
        case gpus
    }
}
