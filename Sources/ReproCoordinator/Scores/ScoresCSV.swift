import Foundation
import ReproCore

/// RFC 4180 CSV of the funders' table: CRLF line ends, a header row, fields quoted when they hold a
/// comma, quote, CR or LF (quotes doubled), UTF-8 kept as is.
enum ScoresCSV {
    static let header = [
        "preprint_id", "title", "institutions", "field", "funding", "score", "reproduced", "decided", "inconclusive",
        "runs", "badge", "feedback_reproduced", "feedback_partially", "feedback_not_reproduced", "feedback_comment",
        "rating_bayesian", "rating_count", "updated_at",
    ]

    /// The document for `rows`.
    static func render(_ rows: [ScoreRow]) -> String {
        var lines = [header.map(field).joined(separator: ",")]
        let dates = Date.ISO8601FormatStyle()
        for row in rows {
            let values: [String] = [
                row.preprintID, row.title, row.institutions.joined(separator: "; "), row.field ?? "",
                row.funding.map { entry in entry.grant.map { "\(entry.funder): \($0)" } ?? entry.funder }
                    .joined(separator: "; "),
                row.score.map { String(format: "%.2f", $0) } ?? "", "\(row.reproduced)", "\(row.decided)",
                "\(row.inconclusive)", "\(row.runs)", row.badge ?? "", "\(row.feedback.reproduced)",
                "\(row.feedback.partially)", "\(row.feedback.notReproduced)", "\(row.feedback.comment)",
                row.feedback.ratingBayesian.map { String(format: "%.3f", $0) } ?? "", "\(row.feedback.ratingCount)",
                dates.format(row.updatedAt),
            ]
            lines.append(values.map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// One field, quoted only when needed.
    static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
