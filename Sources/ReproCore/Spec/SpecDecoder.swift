/// Turns a ``SpecNode`` tree into a ``StudySpec`` by hand rather than with synthesized `Codable`,
/// so that every problem is reported with its field path and line, and all of them are collected.
///
/// Each `decode…` method reports what is wrong with its part and returns nil (or a partial result)
/// instead of stopping, so one submission shows the researcher every mistake at once.
final class SpecDecoder {
    let context: SpecContext
    let limits: SpecLimits
    private(set) var issues: [SpecIssue] = []

    init(context: SpecContext, limits: SpecLimits) {
        self.context = context
        self.limits = limits
    }

    /// Records a problem at `path`.
    func report(_ path: String, _ reason: String, line: Int?) {
        issues.append(SpecIssue(path: path, reason: reason, line: line))
    }

    /// Records problems found before decoding (duplicate JSON keys).
    func report(_ earlier: [SpecIssue]) {
        issues.append(contentsOf: earlier)
    }

    // MARK: - Paths

    /// `parent.key`, or `key` at the top level.
    static func join(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// `parent[index]`.
    static func join(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }

    // MARK: - Mappings

    /// The keys of one mapping in the spec, with its path for messages.
    struct Fields {
        let path: String
        let line: Int?
        let values: [String: SpecNode]

        /// The value of `key`, or nil when it is left out or empty (`key:` with nothing after it in YAML),
        /// which optional keys treat alike.
        subscript(key: String) -> SpecNode? {
            guard let node = values[key] else { return nil }
            if case .scalar(let scalar) = node.value, case .null = scalar.kind { return nil }
            return node
        }

        /// The path of `key` in this mapping.
        func path(_ key: String) -> String {
            SpecDecoder.join(path, key)
        }
    }

    /// The node as a mapping with only `allowed` keys; reports a wrong type or every unknown key.
    func fields(_ node: SpecNode, at path: String, allowed: [String]) -> Fields? {
        guard case .mapping(let entries) = node.value else {
            report(
                path, "expected a mapping (keys: \(allowed.joined(separator: ", "))), got \(node.excerpt)",
                line: node.line)
            return nil
        }
        var values: [String: SpecNode] = [:]
        for entry in entries {
            if allowed.contains(entry.key) {
                values[entry.key] = entry.value
            } else {
                report(
                    join(path, entry.key), KeySuggester.unknownKeyReason(entry.key, allowed: allowed),
                    line: entry.keyLine ?? node.line)
            }
        }
        return Fields(path: path, line: node.line, values: values)
    }

    private func join(_ parent: String, _ key: String) -> String { Self.join(parent, key) }

    /// The value of a required key; reports it when missing or empty.
    func required(_ fields: Fields, _ key: String) -> SpecNode? {
        if let node = fields[key] { return node }
        if let present = fields.values[key] {
            report(fields.path(key), "needs a value", line: present.line)
        } else {
            report(fields.path(key), "missing required key '\(key)'", line: fields.line)
        }
        return nil
    }

    /// Exactly one of `keys` must be present (`code.bundle` or `code.git`); returns the one given.
    func exactlyOne(of keys: [String], in fields: Fields) -> String? {
        let present = keys.filter { fields[$0] != nil }
        let names = keys.map { "'\($0)'" }.joined(separator: " or ")
        switch present.count {
        case 1:
            return present[0]
        case 0:
            report(fields.path, "needs one of \(names)", line: fields.line)
        default:
            report(
                fields.path, "has both \(present.map { "'\($0)'" }.joined(separator: " and ")); give exactly one",
                line: fields.line)
        }
        return nil
    }

    // MARK: - Scalars

    /// A string. Unquoted YAML such as `no` or `1.10` counts as the text written, since YAML's
    /// guess that it is a boolean or number is rarely what the author meant for a name.
    func string(_ node: SpecNode, at path: String) -> String? {
        guard case .scalar(let scalar) = node.value else {
            report(path, "expected a string, got \(node.excerpt)", line: node.line)
            return nil
        }
        switch scalar.kind {
        case .string:
            // NUL and overlong text were reported by ``checkStorable(_:at:)`` before decoding began.
            return scalar.text
        case .null:
            report(path, "needs a value", line: node.line)
        case .integer, .number, .bool:
            if scalar.isPlainYAML { return scalar.text }
            report(path, "expected a string, got \(node.excerpt)", line: node.line)
        }
        return nil
    }

    /// A non-empty string of at most `maxLength` characters (the same limits as `PUT /v1/preprints/{id}`).
    func boundedString(_ node: SpecNode, at path: String, maxLength: Int) -> String? {
        guard let text = nonEmptyString(node, at: path) else { return nil }
        guard text.count <= maxLength else {
            report(path, "must be at most \(maxLength) characters, got \(text.count)", line: node.line)
            return nil
        }
        return text
    }

    /// A string with something other than spaces in it.
    func nonEmptyString(_ node: SpecNode, at path: String) -> String? {
        guard let text = string(node, at: path) else { return nil }
        guard !text.trimmingWhitespace().isEmpty else {
            report(path, "must not be empty", line: node.line)
            return nil
        }
        return text
    }

    /// `true` or `false`. Quoted text such as `"true"` is refused rather than guessed at, since a
    /// switch that controls what a job may reach should say exactly what it means.
    func boolean(_ node: SpecNode, at path: String) -> Bool? {
        if case .scalar(let scalar) = node.value, case .bool(let value) = scalar.kind { return value }
        report(path, "expected true or false, got \(node.excerpt)", line: node.line)
        return nil
    }

    /// A whole number in `range`. `3.0` counts as 3; `2.5`, strings and booleans do not.
    func integer(_ node: SpecNode, at path: String, in range: ClosedRange<Int64>) -> Int64? {
        let value: Int64
        switch node.value {
        case .scalar(let scalar):
            switch scalar.kind {
            case .integer(let integer):
                value = integer
            case .number(let number) where number.rounded() == number:
                guard let exact = Int64(exactly: number), range.contains(exact) else {
                    report(
                        path, "must be between \(range.lowerBound) and \(range.upperBound), got \(scalar.text)",
                        line: node.line)
                    return nil
                }
                value = exact
            case .null:
                report(path, "needs a value", line: node.line)
                return nil
            default:
                report(path, "expected a whole number, got \(node.excerpt)", line: node.line)
                return nil
            }
        default:
            report(path, "expected a whole number, got \(node.excerpt)", line: node.line)
            return nil
        }
        guard range.contains(value) else {
            report(path, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)", line: node.line)
            return nil
        }
        return value
    }

    /// A whole number in an `Int` range.
    func integer(_ node: SpecNode, at path: String, in range: ClosedRange<Int>) -> Int? {
        integer(node, at: path, in: Int64(range.lowerBound)...Int64(range.upperBound)).map { Int($0) }
    }

    /// A number, integer or not, that is finite (YAML can write `.inf` and `.nan`).
    func finiteNumber(_ node: SpecNode, at path: String) -> Double? {
        guard case .scalar(let scalar) = node.value else {
            report(path, "expected a number, got \(node.excerpt)", line: node.line)
            return nil
        }
        let value: Double
        switch scalar.kind {
        case .integer(let integer): value = Double(integer)
        case .number(let number): value = number
        case .null:
            report(path, "needs a value", line: node.line)
            return nil
        default:
            report(path, "expected a number, got \(node.excerpt)", line: node.line)
            return nil
        }
        guard value.isFinite else {
            report(path, "must be a finite number, got \(scalar.text)", line: node.line)
            return nil
        }
        return value
    }

    // MARK: - Lists

    /// The node as a list; reports a wrong type, suggesting the list form with `example`.
    func list(_ node: SpecNode, at path: String, example: String) -> [SpecNode]? {
        guard case .sequence(let elements) = node.value else {
            report(path, "expected a list such as \(example), got \(node.excerpt)", line: node.line)
            return nil
        }
        return elements
    }

    /// A list of non-empty strings (`authors`, `institutions`).
    func stringList(_ node: SpecNode, at path: String, example: String, maxCount: Int, maxLength: Int) -> [String]? {
        guard let elements = list(node, at: path, example: example) else { return nil }
        guard elements.count <= maxCount else {
            report(path, "at most \(maxCount) entries, got \(elements.count)", line: node.line)
            return nil
        }
        let strings = elements.enumerated().map { index, element in
            boundedString(element, at: Self.join(path, index), maxLength: maxLength)
        }
        return strings.contains(nil) ? nil : strings.compactMap { $0 }
    }

    /// Reports every repeated value after its first occurrence.
    func reportDuplicates<Value: Hashable>(
        _ values: [(value: Value, node: SpecNode)], at path: String, describe: (Value) -> String
    ) {
        var firstIndex: [Value: Int] = [:]
        for (index, entry) in values.enumerated() {
            if let first = firstIndex[entry.value] {
                report(
                    Self.join(path, index),
                    "\(describe(entry.value)) is listed twice (also at \(Self.join(path, first)))",
                    line: entry.node.line)
            } else {
                firstIndex[entry.value] = index
            }
        }
    }

    // MARK: - Storable text

    /// Longest text of any string or key in a spec, in characters; fields with a rule of their own
    /// (preprint metadata, names) are shorter.
    public static let maxTextLength = 4_096

    /// Reports every string and key of the document that PostgreSQL cannot store (NUL) or that is
    /// longer than ``maxTextLength``: the one place a spec's text is checked for both, whatever field
    /// it is in (configuration parameter values included), before anything is decoded.
    func checkStorable(_ node: SpecNode, at path: String) {
        switch node.value {
        case .scalar(let scalar):
            checkStorable(scalar.text, at: path, line: node.line)
        case .sequence(let elements):
            for (index, element) in elements.enumerated() { checkStorable(element, at: Self.join(path, index)) }
        case .mapping(let entries):
            for entry in entries {
                let child = Self.join(path, entry.key)
                checkStorable(entry.key, at: child, line: entry.keyLine ?? node.line)
                checkStorable(entry.value, at: child)
            }
        }
    }

    private func checkStorable(_ text: String, at path: String, line: Int?) {
        if !StorableText.isStorable(text) {
            report(path, StorableText.reason, line: line)
        } else if text.count > Self.maxTextLength {
            report(path, "must be at most \(Self.maxTextLength) characters, got \(text.count)", line: line)
        }
    }

    // MARK: - Names

    /// Dataset and configuration names: `[A-Za-z0-9_.-]{1,64}`, safe in paths, URLs and command lines.
    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    static let nameRule = "must be 1 to 64 letters, digits, '_', '.' or '-'"
}
