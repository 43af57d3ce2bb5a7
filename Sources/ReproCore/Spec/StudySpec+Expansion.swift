extension StudySpec {
    /// Every task the study starts with, in a fixed order: by dataset (spec order), configuration (name
    /// order), seed (spec order), then replica. The order is part of the contract: task ids and seed groups
    /// are assigned from it, so expanding the same spec twice gives the same tasks. An adaptive study starts
    /// with its first `min` seeds; its seed groups are numbered over all `max` seeds, so the groups of later
    /// steps have their numbers from the start.
    public func expand() -> [TaskTemplate] {
        expand(seedIndices: 0..<matrix.initialSeedCount)
    }

    /// The tasks of the seeds at `seedIndices` (positions in `matrix.seeds`) on `datasets` (every dataset when
    /// nil), in expansion order: what an adaptive study's step adds.
    public func expand(seedIndices: Range<Int>, datasets: Set<String>? = nil) -> [TaskTemplate] {
        let configurations: [ConfigurationSpec?] = matrix.configurations.isEmpty ? [nil] : matrix.configurations
        let groups = matrix.datasets.count * configurations.count * matrix.seeds.count
        let checked = spotCheckedGroups(count: groups)
        var tasks: [TaskTemplate] = []
        let seedCount = seedIndices.clamped(to: 0..<matrix.seeds.count).count
        tasks.reserveCapacity(
            (datasets?.count ?? matrix.datasets.count) * configurations.count * seedCount * matrix.replicas
                + checked.count)
        var seedGroup = 0
        for dataset in matrix.datasets {
            for configuration in configurations {
                for (index, seed) in matrix.seeds.enumerated() {
                    defer { seedGroup += 1 }
                    guard seedIndices.contains(index), datasets?.contains(dataset) ?? true else { continue }
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
