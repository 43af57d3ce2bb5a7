import ReproStats

/// The runs a study asks for: every seed on every dataset under every configuration, `replicas` times.
public struct MatrixSpec: Sendable, Hashable {
    /// Seeds in the spec's order. For an adaptive study, every seed it may run: 0 to `max` − 1, of which the
    /// first `min` run at submission and the rest a `step` at a time (``adaptive``).
    public var seeds: [Int64]
    /// Dataset names in the spec's order.
    public var datasets: [String]
    /// Named parameter sets, ordered by name; empty when the study has a single configuration.
    public var configurations: [ConfigurationSpec]
    /// Runs of each (dataset, seed, configuration) on distinct workers, to measure hardware variance.
    public var replicas: Int
    /// `seeds: {adaptive: {min, max, step}}`: how the seeds grow while a claim is undecided; nil for a fixed list.
    public var adaptive: AdaptiveSchedule?

    /// Creates a matrix; configurations are put in name order.
    public init(seeds: [Int64], datasets: [String], configurations: [ConfigurationSpec] = [], replicas: Int = 1) {
        self.seeds = seeds
        self.datasets = datasets
        self.configurations = configurations.sorted { $0.name < $1.name }
        self.replicas = replicas
    }

    /// An adaptive matrix: seeds 0 to `schedule.max` − 1, run `schedule.min` first and then a step at a time.
    public init(
        adaptive schedule: AdaptiveSchedule, datasets: [String], configurations: [ConfigurationSpec] = [],
        replicas: Int = 1
    ) {
        self.init(
            seeds: Array(0..<Int64(Swift.max(schedule.max, 0))), datasets: datasets, configurations: configurations,
            replicas: replicas)
        adaptive = schedule
    }

    /// Most looks an adaptive schedule may plan. The boundaries of every look are integrated numerically at each
    /// report (statistics.md §2c); their accuracy was checked up to 40 looks, and each look costs as much as one
    /// more grid pass.
    public static let maxLooks = 40

    /// Seeds run at submission: all of them, or an adaptive study's first `min`.
    public var initialSeedCount: Int {
        adaptive.map { Swift.min($0.min, seeds.count) } ?? seeds.count
    }

    /// Accepted seeds: 0 to 2³²−1, what NumPy, PyTorch and TensorFlow all accept.
    public static let seedRange: ClosedRange<Int64> = 0...Int64(UInt32.max)
    /// Accepted `replicas`.
    public static let replicaRange = 1...10

    /// How many tasks the matrix expands into (for an adaptive study, the most it may grow to).
    public var taskCount: Int {
        datasets.count * seeds.count * max(configurations.count, 1) * replicas
    }

    /// The configuration called `name`, if any.
    public func configuration(named name: String) -> ConfigurationSpec? {
        configurations.first { $0.name == name }
    }
}

extension MatrixSpec: Codable {
    private enum CodingKeys: String, CodingKey {
        case seeds, datasets, configurations, replicas
    }

    /// The adaptive form of `seeds`.
    private struct AdaptiveSeeds: Codable {
        var adaptive: AdaptiveSchedule
    }

    /// Decodes the spec file's shape: `configurations` is a mapping from name to parameters, `seeds` a list or
    /// `{adaptive: {min, max, step}}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let parameters = try container.decodeIfPresent([String: [String: String]].self, forKey: .configurations) ?? [:]
        let datasets = try container.decode([String].self, forKey: .datasets)
        let configurations = parameters.map { ConfigurationSpec(name: $0.key, parameters: $0.value) }
        let replicas = try container.decode(Int.self, forKey: .replicas)
        if let schedule = try? container.decode(AdaptiveSeeds.self, forKey: .seeds).adaptive {
            self.init(adaptive: schedule, datasets: datasets, configurations: configurations, replicas: replicas)
        } else {
            self.init(
                seeds: try container.decode([Int64].self, forKey: .seeds), datasets: datasets,
                configurations: configurations, replicas: replicas)
        }
    }

    /// Encodes the spec file's shape, leaving `configurations` out when there are none
    /// (the parser refuses an empty mapping).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let adaptive {
            // The schedule, not the seed list it stands for: the canonical JSON parses back to an equal matrix.
            try container.encode(AdaptiveSeeds(adaptive: adaptive), forKey: .seeds)
        } else {
            try container.encode(seeds, forKey: .seeds)
        }
        try container.encode(datasets, forKey: .datasets)
        if !configurations.isEmpty {
            let byName = Dictionary(
                configurations.map { ($0.name, $0.parameters) }, uniquingKeysWith: { first, _ in first })
            try container.encode(byName, forKey: .configurations)
        }
        try container.encode(replicas, forKey: .replicas)
    }
}

/// One named set of parameters, substituted into the command as `{config}` and `{<parameter>}`.
public struct ConfigurationSpec: Sendable, Hashable, Codable {
    /// The configuration's name, such as `small`.
    public var name: String
    /// Parameter values as the command will see them.
    public var parameters: [String: String]

    /// Creates a configuration.
    public init(name: String, parameters: [String: String] = [:]) {
        self.name = name
        self.parameters = parameters
    }
}
