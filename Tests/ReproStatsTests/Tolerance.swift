import Testing

/// Tolerances stated in statistics.md and the fixture: closed forms agree with scipy/numpy to 1e-9 relative
/// (plus 1e-14 absolute for values that are 0 or rounding-level); bootstrap bounds to a Monte-Carlo tolerance.
struct Tolerance: Sendable {
    var relative: Double
    var absolute: Double

    static let closedForm = Tolerance(relative: 1e-9, absolute: 1e-14)

    static func absolute(_ value: Double) -> Tolerance {
        Tolerance(relative: 0, absolute: value)
    }

    func accepts(_ actual: Double, _ expected: Double) -> Bool {
        abs(actual - expected) <= relative * abs(expected) + absolute
    }
}

/// Expects `actual` within `tolerance` of `expected` (nil expected means nil actual).
func expectClose(
    _ actual: Double?,
    _ expected: Double?,
    _ tolerance: Tolerance = .closedForm,
    _ label: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let expected else {
        #expect(
            actual == nil,
            "\(label): expected nil, got \(String(describing: actual))",
            sourceLocation: sourceLocation
        )
        return
    }
    guard let actual else {
        Issue.record("\(label): expected \(expected), got nil", sourceLocation: sourceLocation)
        return
    }
    #expect(
        tolerance.accepts(actual, expected),
        "\(label): \(actual) vs reference \(expected) (diff \(actual - expected))",
        sourceLocation: sourceLocation
    )
}

/// Compares every field of `expected` (fixture JSON) with the same field of `actual` (our encoded result).
/// Numbers use `tolerance(path)`; null means the key must be absent or null; keys listed in `skipping` are
/// fixture metadata. Returns the mismatches as readable lines.
func mismatches(
    _ actual: JSONValue?,
    _ expected: JSONValue,
    path: String = "",
    skipping: Set<String> = [],
    tolerance: (String) -> Tolerance = { _ in .closedForm }
) -> [String] {
    switch expected {
    case .null:
        if let actual, actual != .null { return ["\(path): expected null, got \(actual)"] }
        return []
    case .number(let value):
        guard let number = actual?.number else {
            return ["\(path): expected \(value), got \(actual?.description ?? "nothing")"]
        }
        return tolerance(path).accepts(number, value) ? [] : ["\(path): \(number) vs reference \(value)"]
    case .object(let fields):
        var found: [String] = []
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !skipping.contains(key) {
            let childPath = path.isEmpty ? key : path + "." + key
            found += mismatches(actual?[key], value, path: childPath, skipping: skipping, tolerance: tolerance)
        }
        return found
    case .array(let values):
        guard case .array(let actualValues) = actual, actualValues.count == values.count else {
            return ["\(path): expected \(expected), got \(actual?.description ?? "nothing")"]
        }
        return zip(actualValues, values).enumerated().flatMap { index, pair in
            mismatches(pair.0, pair.1, path: "\(path)[\(index)]", skipping: skipping, tolerance: tolerance)
        }
    case .bool, .string:
        return actual == expected ? [] : ["\(path): expected \(expected), got \(actual?.description ?? "nothing")"]
    }
}

/// Expects the JSON encoding of `result` to match the fixture's `expected` object in every field.
func expectMatches(
    _ result: some Encodable,
    _ expected: JSONValue,
    _ name: String,
    skipping: Set<String> = [],
    tolerance: (String) -> Tolerance = { _ in .closedForm },
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let problems = mismatches(try JSONValue.encoding(result), expected, skipping: skipping, tolerance: tolerance)
    #expect(problems.isEmpty, "\(name): \(problems)", sourceLocation: sourceLocation)
}
