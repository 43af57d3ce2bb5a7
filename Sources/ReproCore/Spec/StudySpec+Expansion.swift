extension StudySpec {
    /// Every task of the study, in a fixed order: by dataset (spec order), configuration (name order),
    /// seed (spec order), then replica. The order is part of the contract: task ids and seed groups are
    /// assigned from it, so expanding the same spec twice gives the same tasks.
    public func expand() -> [TaskTemplate] {
        let configurations: [ConfigurationSpec?] = matrix.configurations.isEmpty ? [nil] : matrix.configurations
        var tasks: [TaskTemplate] = []
        tasks.reserveCapacity(matrix.taskCount)
        var seedGroup = 0
        for dataset in matrix.datasets {
            for configuration in configurations {
                for seed in matrix.seeds {
                    let arguments = Self.substitute(
                        command: run.command, seed: seed, dataset: dataset, configuration: configuration)
                    for replica in 0..<matrix.replicas {
                        tasks.append(
                            TaskTemplate(
                                dataset: dataset, seed: seed, configuration: configuration?.name, replica: replica,
                                seedGroup: seedGroup, arguments: arguments))
                    }
                    seedGroup += 1
                }
            }
        }
        return tasks
    }

    /// The command with `{seed}`, `{dataset}`, `{config}` and the configuration's parameters filled in.
    ///
    /// `{config}` and parameters stay as written when `configuration` is nil; validation makes sure
    /// a parsed spec never uses them then.
    public static func substitute(
        command: [String], seed: Int64, dataset: String, configuration: ConfigurationSpec?
    ) -> [String] {
        var values = configuration?.parameters ?? [:]
        values["seed"] = String(seed)
        values["dataset"] = dataset
        if let configuration { values["config"] = configuration.name }
        return command.map { CommandTemplate.substitute($0, values: values) }
    }

    /// Placeholders that every command may use whatever the configurations.
    static let builtInPlaceholders = ["seed", "dataset", "config"]
}
