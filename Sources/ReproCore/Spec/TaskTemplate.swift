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
    /// Replicas in this task's seed group (the matrix's `replicas`, one more when spot-checked).
    public var groupSize: Int
    /// Whether the group is spot-checked (`verification`): its replicas go to workers of distinct
    /// volunteer accounts, not only distinct workers.
    public var distinctAccounts: Bool

    /// Creates a task template.
    public init(
        dataset: String, seed: Int64, configuration: String?, replica: Int, seedGroup: Int, arguments: [String],
        groupSize: Int = 1, distinctAccounts: Bool = false
    ) {
        self.dataset = dataset
        self.seed = seed
        self.configuration = configuration
        self.replica = replica
        self.seedGroup = seedGroup
        self.arguments = arguments
        self.groupSize = groupSize
        self.distinctAccounts = distinctAccounts
    }
}
