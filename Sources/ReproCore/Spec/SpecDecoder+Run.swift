extension SpecDecoder {
    func decodeRun(_ node: SpecNode, at path: String, matrix: MatrixParts) -> RunSpec? {
        guard
            let fields = fields(
                node, at: path, allowed: ["command", "timeout", "resources", "max_attempts", "network"])
        else { return nil }
        let command = required(fields, "command").flatMap {
            decodeCommand($0, at: fields.path("command"), matrix: matrix)
        }
        let timeout = required(fields, "timeout").flatMap { decodeTimeout($0, at: fields.path("timeout")) }
        let resources = fields["resources"].map { decodeResources($0, at: fields.path("resources")) }
        let maxAttempts = fields["max_attempts"].map {
            integer($0, at: fields.path("max_attempts"), in: RunSpec.maxAttemptsRange)
        }
        let network = fields["network"].map { boolean($0, at: fields.path("network")) }
        guard let command, let timeout, resources != .some(nil), maxAttempts != .some(nil), network != .some(nil)
        else { return nil }
        return RunSpec(
            command: command, timeoutSeconds: timeout, resources: (resources ?? nil) ?? ResourceSpec(),
            maxAttempts: (maxAttempts ?? nil) ?? RunSpec.defaultMaxAttempts, network: (network ?? nil) ?? false)
    }

    // MARK: - Command

    /// The argument list, with its placeholders checked against the matrix.
    func decodeCommand(_ node: SpecNode, at path: String, matrix: MatrixParts) -> [String]? {
        guard case .sequence(let elements) = node.value else {
            report(
                path,
                "expected a list of arguments such as [\"python3\", \"train.py\", \"--seed\", \"{seed}\"], "
                    + "got \(node.excerpt)", line: node.line)
            return nil
        }
        guard !elements.isEmpty else {
            report(path, "must not be empty: give the program and its arguments", line: node.line)
            return nil
        }
        let arguments = elements.enumerated().map { index, element in string(element, at: Self.join(path, index)) }
        guard !arguments.contains(nil) else { return nil }
        let command = arguments.compactMap { $0 }
        var valid = true
        if command[0].trimmingWhitespace().isEmpty {
            report(Self.join(path, 0), "the program name must not be empty", line: elements[0].line)
            valid = false
        }
        let allowed = matrix.placeholders
        var used: Set<String> = []
        for (index, argument) in command.enumerated() {
            for name in CommandTemplate.placeholders(in: argument) {
                used.insert(name)
                guard let allowed, !allowed.contains(name) else { continue }
                report(
                    Self.join(path, index), unknownPlaceholderReason(name, allowed: allowed, matrix: matrix),
                    line: elements[index].line)
                valid = false
            }
        }
        for (name, why) in [("seed", "each task trains with its own seed"), ("dataset", "each task knows its dataset")]
        where !used.contains(name) {
            report(
                path,
                "must contain {\(name)} so that \(why) (it may be part of an argument, as in --\(name)={\(name)})",
                line: node.line)
            valid = false
        }
        return valid ? command : nil
    }

    private func unknownPlaceholderReason(_ name: String, allowed: [String], matrix: MatrixParts) -> String {
        if name == "config" {
            return "{config} needs matrix.configurations to name at least one configuration"
        }
        let hint =
            KeySuggester.suggestion(for: name, among: allowed).map { " (did you mean {\($0)}?)" }
            ?? " (known: \(allowed.map { "{\($0)}" }.joined(separator: ", ")))"
        return "unknown placeholder {\(name)}\(hint)"
    }

    // MARK: - Limits

    /// Seconds from a number or a duration such as `1h30m`, within ``RunSpec/timeoutRange``.
    func decodeTimeout(_ node: SpecNode, at path: String) -> Int? {
        let seconds: Int64
        switch node.value {
        case .scalar(let scalar):
            switch scalar.kind {
            case .integer(let value):
                seconds = value
            case .number(let value) where value.rounded() == value:
                // Clamped so that huge values reach the range check below instead of trapping.
                seconds = Int64(max(-1e15, min(1e15, value)))
            case .string:
                guard let duration = DurationValue(parsing: scalar.text) else {
                    report(
                        path, "\"\(scalar.text)\" is not a duration (use 90s, 10m, 1h30m or seconds)",
                        line: node.line)
                    return nil
                }
                seconds = Int64(duration.seconds)
            default:
                report(path, "\(node.excerpt) is not a duration (use 90s, 10m, 1h30m or seconds)", line: node.line)
                return nil
            }
        default:
            report(path, "expected a duration such as 10m, got \(node.excerpt)", line: node.line)
            return nil
        }
        let range = RunSpec.timeoutRange
        if seconds < range.lowerBound {
            report(path, "must be more than 0 seconds", line: node.line)
            return nil
        }
        if seconds > range.upperBound {
            report(
                path, "must be at most 7 days (\(range.upperBound) seconds), got \(seconds) seconds",
                line: node.line)
            return nil
        }
        return Int(seconds)
    }

    func decodeResources(_ node: SpecNode, at path: String) -> ResourceSpec? {
        guard let fields = fields(node, at: path, allowed: ["cpus", "memory", "gpus"]) else { return nil }
        let defaults = ResourceSpec()
        let cpus = fields["cpus"].map { integer($0, at: fields.path("cpus"), in: ResourceSpec.cpuRange) }
        let memory = fields["memory"].map { decodeMemory($0, at: fields.path("memory")) }
        let gpus = fields["gpus"].map { integer($0, at: fields.path("gpus"), in: ResourceSpec.gpuRange) }
        guard cpus != .some(nil), memory != .some(nil), gpus != .some(nil) else { return nil }
        return ResourceSpec(
            cpus: (cpus ?? nil) ?? defaults.cpus, memoryBytes: (memory ?? nil) ?? defaults.memoryBytes,
            gpus: (gpus ?? nil) ?? defaults.gpus)
    }

    /// Bytes from a number or a size such as `2GiB`, within ``ResourceSpec/memoryRange``.
    func decodeMemory(_ node: SpecNode, at path: String) -> Int64? {
        let range = ResourceSpec.memoryRange
        let bytes: Int64
        if case .scalar(let scalar) = node.value, case .string = scalar.kind {
            guard let size = ByteSize(parsing: scalar.text) else {
                report(path, "\"\(scalar.text)\" is not a size (use 512MiB, 2GiB, 1G or bytes)", line: node.line)
                return nil
            }
            bytes = size.bytes
        } else {
            // Any whole number is read here; the range check below gives the clearer message.
            guard let number = integer(node, at: path, in: Int64.min...Int64.max) else { return nil }
            bytes = number
        }
        guard range.contains(bytes) else {
            report(
                path,
                "must be between \(ByteSize(bytes: range.lowerBound)) and \(ByteSize(bytes: range.upperBound)), "
                    + "got \(ByteSize(bytes: bytes))", line: node.line)
            return nil
        }
        return bytes
    }
}
