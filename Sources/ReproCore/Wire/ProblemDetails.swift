/// An RFC 9457 problem document (`application/problem+json`), the body of every error answer.
public struct ProblemDetails: Codable, Sendable, Equatable, Error {
    /// A URI reference naming the kind of problem (`https://reprogrid.dev/problems/<slug>`).
    public var type: String
    /// A short summary of the kind of problem.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// What went wrong with this request, and what to do next.
    public var detail: String
    /// The request field at fault (a JSON path such as `matrix.seeds[2]`), when one is.
    public var field: String?
    /// Every problem found, when validation found several.
    public var issues: [FieldIssue]?

    /// One problem with one field.
    public struct FieldIssue: Codable, Sendable, Equatable {
        /// Path of the field (`claims[1].dataset`).
        public var path: String
        /// Why it was refused.
        public var reason: String
        /// Line in the submitted document, when known.
        public var line: Int?

        /// Creates an issue.
        public init(path: String, reason: String, line: Int? = nil) {
            self.path = path
            self.reason = reason
            self.line = line
        }
    }

    /// Creates a problem document; `slug` becomes the last part of `type`.
    public init(
        slug: String, title: String, status: Int, detail: String, field: String? = nil, issues: [FieldIssue]? = nil
    ) {
        self.type = "https://reprogrid.dev/problems/\(slug)"
        self.title = title
        self.status = status
        self.detail = detail
        self.field = field
        self.issues = issues
    }
}

extension ProblemDetails: CustomStringConvertible {
    /// One readable paragraph: the detail, then one line per issue.
    public var description: String {
        var text = "\(title) (\(status)): \(detail)"
        if let field, issues == nil { text += " [field: \(field)]" }
        for issue in issues ?? [] {
            let line = issue.line.map { " (line \($0))" } ?? ""
            text += "\n  - \(issue.path)\(line): \(issue.reason)"
        }
        return text
    }
}
