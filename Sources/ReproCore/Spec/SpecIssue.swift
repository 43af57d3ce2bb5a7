/// One problem found in a study spec: where it is and what is wrong.
///
/// Issues are meant for people: `path` names the field the way the spec file spells it
/// (`matrix.seeds[2]`, `claims[1].dataset`) and `reason` says what to change.
public struct SpecIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Dotted field path with list indices, such as `run.resources.memory`; empty for the document as a whole.
    public var path: String
    /// What is wrong, phrased so that the fix is obvious.
    public var reason: String
    /// 1-based line in the spec file, when the parser could tell.
    public var line: Int?

    /// Creates an issue.
    public init(path: String, reason: String, line: Int? = nil) {
        self.path = path
        self.reason = reason
        self.line = line
    }

    /// `path: reason (line N)`, or just the reason for document-wide problems.
    public var description: String {
        let location = line.map { " (line \($0))" } ?? ""
        return path.isEmpty ? "\(reason)\(location)" : "\(path): \(reason)\(location)"
    }
}

/// Thrown by ``StudySpec/parse(_:format:limits:context:)`` with every problem found, not only the first.
public struct SpecValidationError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The problems, in the order they appear in the spec.
    public var issues: [SpecIssue]

    /// Creates an error from the issues found.
    public init(issues: [SpecIssue]) {
        self.issues = issues
    }

    /// One line per issue.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
