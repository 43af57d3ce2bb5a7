import Foundation
import Hummingbird
import ReproCore

/// Text encoded as `application/x-www-form-urlencoded`, read the one way this server reads it: a
/// request's query string (every API route and every dashboard page) and the dashboard's form bodies.
/// `+` is a space and `%XX` sequences are decoded, in names and values alike.
///
/// Hummingbird's `uri.queryParameters` percent-decodes but keeps `+`, so `funder=hidden+trust` (how
/// HTML forms, Python's requests and most clients send a space) matched nothing. Nothing reads a query
/// string or a form body but through this type, so the rule lives in one place, and so does the NUL
/// rule for both (``StorableText``): a name or value holding NUL is 400 naming it, whichever route or
/// page it was sent to.
struct QueryParameters: Sendable {
    /// Every name and value, decoded, in the order sent.
    let pairs: [(name: String, value: String)]

    /// Reads the query string of a request.
    init(_ request: Request) throws {
        try self.init(query: request.uri.query ?? "")
    }

    /// Reads a raw (still encoded) query string or form body; 400 naming the parameter that holds NUL.
    init(query: String) throws {
        pairs = try query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            guard StorableText.isStorable(name), StorableText.isStorable(value) else {
                throw Problem.badRequest("\(name) \(StorableText.reason).", field: name)
            }
            return (name, value)
        }
    }

    /// The first value of `name`, or nil when it is absent.
    subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every name present, in order (for refusing unknown parameters).
    var names: [String] { pairs.map(\.name) }

    /// `+` becomes a space before percent-decoding, so an encoded plus (`%2B`) stays a plus. A malformed
    /// escape (`%zz`) is kept as written rather than dropped.
    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
