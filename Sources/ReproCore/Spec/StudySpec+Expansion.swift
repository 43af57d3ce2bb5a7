extension StudySpec {
    /// Every task of the study, in a fixed order: by dataset (spec order), configuration (name order),
    /// seed (spec order), then replica. The order is part of the contract: task ids and seed groups are
    /// assigned from it, so expanding the same spec twice gives the same tasks.
    public func expand() -> [TaskTemplate] {
        let configurations: [ConfigurationSpec?] = matrix.configurations.isEmpty ? [nil] : matrix.configurations
        let groups = matrix.datasets.count * configurations.count * matrix.seeds.count
        let checked = spotCheckedGroups(count: groups)
        var tasks: [TaskTemplate] = []
        tasks.reserveCapacity(matrix.taskCount + checked.count)
        var seedGroup = 0
        for dataset in matrix.datasets {
            for configuration in configurations {
                for seed in matrix.seeds {
                    let arguments = Self.substitute(
                        command: run.command, seed: seed, dataset: dataset, configuration: configuration)
                    let spotChecked = checked.contains(seedGroup)
                    let size = matrix.replicas + (spotChecked ? 1 : 0)
                    for replica in 0..<size {
                        tasks.append(
                            TaskTemplate(
                                dataset: dataset, seed: seed, configuration: configuration?.name, replica: replica,
                                seedGroup: seedGroup, arguments: arguments, groupSize: size,
                                distinctAccounts: spotChecked))
                    }
                    seedGroup += 1
                }
            }
        }
        return tasks
    }

    /// The seed groups that `verification` spot-checks: ⌈f · groups⌉ of them, chosen at random but
    /// reproducibly — ranked by a hash of the spec's canonical digest and the group index — so expanding the
    /// same spec twice gives the same tasks, and a researcher cannot pick which seeds are checked short of
    /// changing the spec (which changes the draw).
    public func spotCheckedGroups(count groups: Int) -> Set<Int> {
        guard let verification else { return [] }
        let wanted = verification.checkedGroups(of: groups)
        guard wanted > 0 else { return [] }
        var salt: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sha256Hex.utf8 { salt = (salt ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let ranked = (0..<groups).sorted {
            (Self.mix(salt ^ UInt64($0)), $0) < (Self.mix(salt ^ UInt64($1)), $1)
        }
        return Set(ranked.prefix(wanted))
    }

    /// SplitMix64's finalizer: spreads neighbouring group indices over the whole range.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
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
