import Foundation

extension StudySpec {
    /// Reads and validates a study spec, reporting every problem found with its field path.
    ///
    /// - Parameters:
    ///   - data: The spec file's bytes, UTF-8.
    ///   - format: YAML or JSON; nil detects it (JSON when the first non-blank byte is `{`).
    ///   - limits: Size limits; ``SpecLimits/default`` allows 1 MiB and 10 000 tasks.
    ///   - context: `.client` lets `code.bundle` be a local directory; `.server` requires an uploaded bundle.
    /// - Throws: ``SpecValidationError`` with one ``SpecIssue`` per problem, in line order.
    public static func parse(
        _ data: Data, format: SpecFormat? = nil, limits: SpecLimits = .default, context: SpecContext = .server
    ) throws(SpecValidationError) -> StudySpec {
        guard data.count <= limits.maxSpecBytes else {
            throw SpecValidationError(issues: [
                SpecIssue(path: "", reason: "the spec is \(data.count) bytes; the limit is \(limits.maxSpecBytes)")
            ])
        }
        let bytes = [UInt8](data)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw SpecValidationError(issues: [SpecIssue(path: "", reason: "the spec is not UTF-8 text")])
        }
        let decoder = SpecDecoder(context: context, limits: limits)
        let root: SpecNode?
        switch format ?? SpecFormat.detect(bytes) {
        case .json:
            let (node, duplicateKeys) = try SpecJSONReader.read(bytes)
            decoder.report(duplicateKeys)
            root = node
        case .yaml:
            root = try SpecYAMLReader.read(text)
        }
        let spec = decoder.decodeStudy(root)
        guard let spec, decoder.issues.isEmpty else {
            throw SpecValidationError(issues: inLineOrder(decoder.issues))
        }
        return spec
    }

    /// Issues sorted by line, keeping the decoder's order on ties and putting those without a line last,
    /// so the list reads top to bottom like the file.
    private static func inLineOrder(_ issues: [SpecIssue]) -> [SpecIssue] {
        issues.enumerated().sorted { lhs, rhs in
            let left = lhs.element.line ?? .max
            let right = rhs.element.line ?? .max
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map(\.element)
    }
}
