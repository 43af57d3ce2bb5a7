import ReproStats

/// What could be read of `matrix`: each part is nil when it was invalid, so that `run` and `claims`
/// can still be checked against the parts that were fine.
struct MatrixParts {
    var seeds: [Int64]?
    /// The adaptive schedule when `seeds` is `{adaptive: …}`; then `seeds` are every seed it may run.
    var adaptive: AdaptiveSchedule?
    var datasets: [String]?
    /// Empty when the spec has none; nil when they were invalid (or the matrix is missing).
    var configurations: [ConfigurationSpec]?
    /// Placeholders the command may use: known even when the configurations are invalid in other ways
    /// (a parameter missing from one of them), so the command can still be checked; nil when unknown.
    var placeholders: [String]?
    var replicas: Int?

    /// The matrix, when every part was valid.
    var spec: MatrixSpec? {
        guard let seeds, let datasets, let configurations, let replicas else { return nil }
        if let adaptive {
            return MatrixSpec(
                adaptive: adaptive, datasets: datasets, configurations: configurations, replicas: replicas)
        }
        return MatrixSpec(seeds: seeds, datasets: datasets, configurations: configurations, replicas: replicas)
    }
}

extension SpecDecoder {
    func decodeMatrix(_ node: SpecNode, at path: String) -> MatrixParts {
        var parts = MatrixParts()
        guard let fields = fields(node, at: path, allowed: ["seeds", "datasets", "configurations", "replicas"])
        else { return parts }
        if let node = required(fields, "seeds") {
            if Self.isAdaptive(node) {
                parts.adaptive = decodeAdaptiveSeeds(node, at: fields.path("seeds"))
                parts.seeds = parts.adaptive.map { Array(0..<Int64($0.max)) }
            } else {
                parts.seeds = decodeSeeds(node, at: fields.path("seeds"))
            }
        }
        parts.datasets = required(fields, "datasets").flatMap { decodeDatasets($0, at: fields.path("datasets")) }
        // Left out means none and one replica; given but invalid leaves the part nil.
        if let node = fields["configurations"] {
            (parts.configurations, parts.placeholders) = decodeConfigurations(node, at: fields.path("configurations"))
        } else {
            parts.configurations = []
            parts.placeholders = StudySpec.builtInPlaceholders.filter { $0 != "config" }
        }
        parts.replicas =
            fields["replicas"].map { integer($0, at: fields.path("replicas"), in: MatrixSpec.replicaRange) } ?? 1
        if let matrix = parts.spec {
            checkTaskCount(matrix, at: path, line: node.line)
        }
        return parts
    }

    /// Checked here rather than in the model: the limit is the coordinator's, not the study's. An adaptive
    /// study is checked at its maximum, what it may grow to.
    private func checkTaskCount(_ matrix: MatrixSpec, at path: String, line: Int?) {
        let factors = [matrix.datasets.count, matrix.seeds.count, max(matrix.configurations.count, 1), matrix.replicas]
        // Saturating product: a pathological spec must not trap on overflow.
        let total = factors.reduce(1) { product, factor in
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            return overflow ? Int.max : next
        }
        guard total > limits.maxTasks else { return }
        report(
            path,
            "expands to \(total) tasks (\(factors[0]) datasets × \(factors[1]) seeds × \(factors[2]) configurations "
                + "× \(factors[3]) replicas); the limit is \(limits.maxTasks)", line: line)
    }

    // MARK: - Seeds

    /// A list of seeds, or `{from: 0, count: 10}` for a range.
    func decodeSeeds(_ node: SpecNode, at path: String) -> [Int64]? {
        let range = MatrixSpec.seedRange
        switch node.value {
        case .mapping:
            guard let fields = fields(node, at: path, allowed: ["from", "count"]) else { return nil }
            let from = required(fields, "from").flatMap { integer($0, at: fields.path("from"), in: range) }
            let count = required(fields, "count").flatMap {
                integer($0, at: fields.path("count"), in: 1...Int64(limits.maxTasks))
            }
            guard let from, let count else { return nil }
            guard from + count - 1 <= range.upperBound else {
                report(path, "runs past the largest seed \(range.upperBound)", line: node.line)
                return nil
            }
            return Array(from..<from + count)
        case .sequence(let elements):
            guard !elements.isEmpty else {
                report(path, "must list at least one seed", line: node.line)
                return nil
            }
            let seeds = elements.enumerated().map { index, element in
                integer(element, at: Self.join(path, index), in: range)
            }
            let valid = zip(seeds, elements).compactMap { seed, element in seed.map { ($0, element) } }
            reportDuplicates(valid.map { (value: $0.0, node: $0.1) }, at: path) { "seed \($0)" }
            guard !seeds.contains(nil), Set(valid.map(\.0)).count == valid.count else { return nil }
            return seeds.compactMap { $0 }
        default:
            report(
                path,
                "expected a list of seeds such as [0, 1, 2] or a range such as {from: 0, count: 10}, "
                    + "got \(node.excerpt)", line: node.line)
            return nil
        }
    }

    // MARK: - Datasets

    func decodeDatasets(_ node: SpecNode, at path: String) -> [String]? {
        guard let elements = list(node, at: path, example: "[digits, wine]") else { return nil }
        guard !elements.isEmpty else {
            report(path, "must list at least one dataset", line: node.line)
            return nil
        }
        let names = elements.enumerated().map { index, element -> String? in
            let elementPath = Self.join(path, index)
            guard let name = string(element, at: elementPath) else { return nil }
            guard Self.isValidName(name) else {
                report(elementPath, "\"\(name)\" \(Self.nameRule)", line: element.line)
                return nil
            }
            return name
        }
        let valid = zip(names, elements).compactMap { name, element in name.map { (value: $0, node: element) } }
        reportDuplicates(valid, at: path) { "dataset '\($0)'" }
        guard !names.contains(nil), Set(valid.map(\.value)).count == valid.count else { return nil }
        return names.compactMap { $0 }
    }

    // MARK: - Configurations

    /// `name: {parameter: value}` pairs; every configuration must define the same parameters,
    /// so that the command's placeholders have a value in every task.
    func decodeConfigurations(_ node: SpecNode, at path: String) -> (
        configurations: [ConfigurationSpec]?, placeholders: [String]?
    ) {
        guard case .mapping(let entries) = node.value else {
            report(
                path,
                "expected a mapping from configuration name to parameters, such as "
                    + "{small: {hidden: 32}}, got \(node.excerpt)", line: node.line)
            return (nil, nil)
        }
        guard !entries.isEmpty else {
            report(path, "must name at least one configuration, or be left out", line: node.line)
            return (nil, nil)
        }
        var valid = true
        var everyParameterRead = true
        var configurations: [(spec: ConfigurationSpec, line: Int?)] = []
        for entry in entries {
            let entryPath = Self.join(path, entry.key)
            if !Self.isValidName(entry.key) {
                report(entryPath, "configuration name \"\(entry.key)\" \(Self.nameRule)", line: entry.keyLine)
                valid = false
            }
            guard let parameters = decodeParameters(entry.value, at: entryPath) else {
                valid = false
                everyParameterRead = false
                continue
            }
            configurations.append((ConfigurationSpec(name: entry.key, parameters: parameters), entry.keyLine))
        }
        let everyName = Set(configurations.flatMap(\.spec.parameters.keys))
        for (configuration, line) in configurations {
            for missing in everyName.subtracting(configuration.parameters.keys).sorted() {
                let definer = configurations.first { $0.spec.parameters[missing] != nil }?.spec.name ?? "another"
                report(
                    Self.join(path, configuration.name),
                    "does not define parameter '\(missing)' (defined in '\(definer)'); "
                        + "every configuration must define the same parameters", line: line)
                valid = false
            }
        }
        let placeholders = everyParameterRead ? StudySpec.builtInPlaceholders + everyName.sorted() : nil
        return (valid ? configurations.map(\.spec) : nil, placeholders)
    }

    /// One configuration's parameters: identifier names, scalar values kept as the text the command will get.
    private func decodeParameters(_ node: SpecNode, at path: String) -> [String: String]? {
        if case .scalar(let scalar) = node.value, case .null = scalar.kind {
            return [:]  // `base:` with nothing after it: a configuration without parameters.
        }
        guard case .mapping(let entries) = node.value else {
            report(path, "expected a mapping of parameters such as {hidden: 32}, got \(node.excerpt)", line: node.line)
            return nil
        }
        var parameters: [String: String] = [:]
        var valid = true
        for entry in entries {
            let entryPath = Self.join(path, entry.key)
            if StudySpec.builtInPlaceholders.contains(entry.key) {
                report(
                    entryPath, "'\(entry.key)' is reserved for the built-in placeholder {\(entry.key)}",
                    line: entry.keyLine)
                valid = false
            } else if !CommandTemplate.isIdentifier(Substring(entry.key)) {
                report(
                    entryPath,
                    "parameter name '\(entry.key)' must start with a letter or '_' and contain only letters, "
                        + "digits and '_', so that {\(entry.key)} can be used in the command", line: entry.keyLine)
                valid = false
            }
            guard case .scalar(let scalar) = entry.value.value else {
                report(
                    entryPath, "expected a single value (string, number or boolean), got \(entry.value.excerpt)",
                    line: entry.value.line)
                valid = false
                continue
            }
            if case .null = scalar.kind {
                report(entryPath, "needs a value", line: entry.value.line)
                valid = false
                continue
            }
            parameters[entry.key] = scalar.text
        }
        return valid ? parameters : nil
    }
}
