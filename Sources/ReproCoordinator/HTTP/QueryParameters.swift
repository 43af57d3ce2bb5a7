import Foundation
import Hummingbird

/// A request's query string read as `application/x-www-form-urlencoded`: `+` is a space and `%XX`
/// sequences are decoded, in names and values alike.
///
/// Hummingbird's `uri.queryParameters` percent-decodes but keeps `+`, so `funder=hidden+trust` (how
/// HTML forms, Python's requests and most clients send a space) matched nothing. Every route reads
/// its query through this type instead, so the rule lives in one place.
struct QueryParameters: Sendable {
    private let pairs: [(name: String, value: String)]

    /// Reads the query string of a request.
    init(_ request: Request) {
        self.init(query: request.uri.query ?? "")
    }

    /// Reads a raw (still encoded) query string.
    init(query: String) {
        pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            return (Self.decode(parts[0]), value)
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
