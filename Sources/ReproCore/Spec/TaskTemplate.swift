/// One task of an expanded study, before the coordinator gives it an id.
public struct TaskTemplate: Sendable, Hashable, Codable {
    /// Dataset to train on.
    public var dataset: String
    /// Seed to train with.
    public var seed: Int64
    /// Configuration name, or nil when the matrix has none.
    public var configuration: String?
    /// 0-based replica number; replicas of one seed go to distinct workers.
    public var replica: Int
    /// 0-based index of (dataset, seed, configuration); the replicas of one run share it.
    public var seedGroup: Int
    /// The command with every placeholder substituted.
    public var arguments: [String]

    /// Creates a task template.
    public init(
        dataset: String, seed: Int64, configuration: String?, replica: Int, seedGroup: Int, arguments: [String]
    ) {
        self.dataset = dataset
        self.seed = seed
        self.configuration = configuration
        self.replica = replica
        self.seedGroup = seedGroup
        self.arguments = arguments
    }
}
