extension SpecDecoder {
    static let claimKeys = ["metric", "dataset", "value", "direction", "tolerance", "configuration"]

    /// The claims, each checked against the matrix's datasets and configurations.
    func decodeClaims(_ node: SpecNode, at path: String, matrix: MatrixParts) -> [ClaimSpec]? {
        guard
            let elements = list(
                node, at: path,
                example: "[{metric: accuracy, dataset: digits, value: 0.97, "
                    + "direction: higher}]")
        else { return nil }
        let claims = elements.enumerated().map { index, element in
            decodeClaim(element, at: Self.join(path, index), matrix: matrix)
        }
        var firstIndex: [String: Int] = [:]
        for (index, claim) in claims.enumerated() {
            guard let claim else { continue }
            // The same metric on the same dataset and configuration twice would be two verdicts on one number.
            let key = "\(claim.metric)\u{0}\(claim.dataset)\u{0}\(claim.configuration ?? "")"
            if let first = firstIndex[key] {
                report(
                    Self.join(path, index),
                    "repeats \(Self.join(path, first)) (same metric, dataset and configuration)",
                    line: elements[index].line)
            } else {
                firstIndex[key] = index
            }
        }
        return claims.contains(nil) ? nil : claims.compactMap { $0 }
    }

    private func decodeClaim(_ node: SpecNode, at path: String, matrix: MatrixParts) -> ClaimSpec? {
        guard let fields = fields(node, at: path, allowed: Self.claimKeys) else { return nil }
        let metric = required(fields, "metric").flatMap { decodeMetric($0, at: fields.path("metric")) }
        let dataset = required(fields, "dataset").flatMap {
            decodeClaimDataset($0, at: fields.path("dataset"), matrix: matrix)
        }
        let value = required(fields, "value").flatMap { finiteNumber($0, at: fields.path("value")) }
        let direction = required(fields, "direction").flatMap { decodeDirection($0, at: fields.path("direction")) }
        let tolerance = fields["tolerance"].map { decodeTolerance($0, at: fields.path("tolerance")) }
        let configuration = fields["configuration"].map {
            decodeClaimConfiguration($0, at: fields.path("configuration"), matrix: matrix)
        }
        guard let metric, let dataset, let value, let direction, tolerance != .some(nil), configuration != .some(nil)
        else { return nil }
        return ClaimSpec(
            metric: metric, dataset: dataset, value: value, direction: direction, tolerance: tolerance ?? nil,
            configuration: configuration ?? nil)
    }

    /// Metric names by the rule runs report them under (``MetricName``), so every claim can be measured.
    private func decodeMetric(_ node: SpecNode, at path: String) -> String? {
        guard let metric = nonEmptyString(node, at: path) else { return nil }
        guard MetricName.isValid(metric) else {
            report(path, "\"\(metric)\" \(MetricName.rule)", line: node.line)
            return nil
        }
        return metric
    }

    private func decodeClaimDataset(_ node: SpecNode, at path: String, matrix: MatrixParts) -> String? {
        guard let dataset = nonEmptyString(node, at: path) else { return nil }
        if let datasets = matrix.datasets, !datasets.contains(dataset) {
            report(
                path, "'\(dataset)' is not one of the matrix's datasets (\(datasets.joined(separator: ", ")))",
                line: node.line)
            return nil
        }
        return dataset
    }

    private func decodeDirection(_ node: SpecNode, at path: String) -> ClaimDirection? {
        guard let text = string(node, at: path) else { return nil }
        guard let direction = ClaimDirection(rawValue: text) else {
            report(path, "must be higher, lower or equal, got \"\(text)\"", line: node.line)
            return nil
        }
        return direction
    }

    private func decodeTolerance(_ node: SpecNode, at path: String) -> Double? {
        guard let tolerance = finiteNumber(node, at: path) else { return nil }
        guard tolerance >= 0 else {
            report(path, "must not be negative, got \(tolerance)", line: node.line)
            return nil
        }
        return tolerance
    }

    private func decodeClaimConfiguration(_ node: SpecNode, at path: String, matrix: MatrixParts) -> String? {
        guard let name = nonEmptyString(node, at: path) else { return nil }
        guard let configurations = matrix.configurations else { return name }
        if configurations.isEmpty {
            report(path, "'\(name)' is not a configuration: the matrix has no configurations", line: node.line)
            return nil
        }
        guard configurations.contains(where: { $0.name == name }) else {
            let names = configurations.map(\.name).sorted().joined(separator: ", ")
            report(path, "'\(name)' is not one of the matrix's configurations (\(names))", line: node.line)
            return nil
        }
        return name
    }
}
