extension SpecDecoder {
    // MARK: - Metric ranges

    /// `metrics: {accuracy: {min: 0, max: 1}, loss: {min: 0}}`. Nil inside the optional means "given but
    /// invalid", so the caller can tell it from "left out".
    func decodeMetricRanges(_ node: SpecNode, at path: String) -> [String: MetricRange]? {
        guard case .mapping(let entries) = node.value else {
            report(
                path,
                "expected a mapping from metric name to {min, max}, such as {accuracy: {min: 0, max: 1}}, got \(node.excerpt)",
                line: node.line)
            return nil
        }
        var ranges: [String: MetricRange] = [:]
        var valid = true
        for entry in entries {
            let entryPath = Self.join(path, entry.key)
            guard MetricName.isValid(entry.key) else {
                report(entryPath, "\"\(entry.key)\" \(MetricName.rule)", line: entry.keyLine ?? node.line)
                valid = false
                continue
            }
            guard let range = decodeMetricRange(entry.value, at: entryPath) else {
                valid = false
                continue
            }
            ranges[entry.key] = range
        }
        if entries.isEmpty {
            report(path, "declares no metric; leave `metrics` out or give at least one {min, max}", line: node.line)
            return nil
        }
        return valid ? ranges : nil
    }

    private func decodeMetricRange(_ node: SpecNode, at path: String) -> MetricRange? {
        guard let fields = fields(node, at: path, allowed: ["min", "max"]) else { return nil }
        let lower = fields["min"].map { finiteNumber($0, at: fields.path("min")) }
        let upper = fields["max"].map { finiteNumber($0, at: fields.path("max")) }
        guard lower != .some(nil), upper != .some(nil) else { return nil }
        let range = MetricRange(min: lower ?? nil, max: upper ?? nil)
        if range.min == nil && range.max == nil {
            report(path, "needs 'min', 'max' or both", line: node.line)
            return nil
        }
        if let min = range.min, let max = range.max, min > max {
            report(fields.path("min"), "must not exceed max (\(max)), got \(min)", line: fields["min"]?.line)
            return nil
        }
        return range
    }

    // MARK: - Verification

    /// `verification: {replicate_fraction: 0.1}`; the extra replicas must still fit the task limit.
    func decodeVerification(_ node: SpecNode, at path: String, matrix: MatrixParts) -> VerificationSpec? {
        guard let fields = fields(node, at: path, allowed: ["replicate_fraction"]) else { return nil }
        let fractionPath = fields.path("replicate_fraction")
        guard let fractionNode = required(fields, "replicate_fraction"),
            let fraction = finiteNumber(fractionNode, at: fractionPath)
        else { return nil }
        guard fraction > 0, fraction <= 1 else {
            report(fractionPath, "must be greater than 0 and at most 1, got \(fraction)", line: fractionNode.line)
            return nil
        }
        let verification = VerificationSpec(replicateFraction: fraction)
        if let matrix = matrix.spec {
            let groups = matrix.taskCount / matrix.replicas
            let total = matrix.taskCount + verification.checkedGroups(of: groups)
            if total > limits.maxTasks {
                report(
                    fractionPath,
                    "the spot checks take the study to \(total) tasks; the limit is \(limits.maxTasks)",
                    line: fractionNode.line)
                return nil
            }
        }
        return verification
    }
}
