import ArgumentParser
import Foundation
import ReproClient
import ReproCore

/// `repro scores`: the funders' table, as a text table, JSON or CSV.
struct Scores: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List preprints with their reproducibility scores (the funders' table).")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Only preprints funded by this funder (case-insensitive).") var funder: String?
    @Option(help: "Only preprints funded by this grant.") var grant: String?
    @Option(help: "Only preprints naming this institution.") var institution: String?
    @Option(help: "Only preprints in this field, e.g. cs.LG.") var field: String?
    @Option(help: "Lowest score (0–100).") var minScore: Double?
    @Option(help: "Highest score (0–100).") var maxScore: Double?
    @Flag(help: "Only preprints with a score.") var scoredOnly = false
    @Option(help: "Sort by score, runs or date (default: score).") var sort: String?
    @Option(help: "asc or desc (default: desc).") var order: String?
    @Option(help: "Rows to show (default: 50; pages are fetched up to this many, but --csv prints one page of at most 1000).")
    var limit = 50
    @Flag(help: "Print CSV (RFC 4180, with a header row); one page, so --limit at most 1000.") var csv = false
    @Flag(help: "Print JSON.") var json = false

    /// The server's page size: `--csv` prints a single page, so it cannot show more rows.
    static let csvLimit = 1_000

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
        guard !csv || limit <= Self.csvLimit else {
            throw ValidationError(
                "--csv prints at most \(Self.csvLimit) rows (one page); use --limit \(Self.csvLimit) or less, or --json for more.")
        }
    }

    func run() async throws {
        let client = try connection.client()
        var filters = ScoreFilters()
        filters.funder = funder
        filters.grant = grant
        filters.institution = institution
        filters.field = field
        filters.minScore = minScore
        filters.maxScore = maxScore
        filters.scoredOnly = scoredOnly
        filters.sort = sort
        filters.order = order
        filters.limit = min(limit, 1_000)
        if csv {
            print(try await reporting { try await client.scoresCSV(filters) }, terminator: "")
            return
        }
        var rows: [ScoreRow] = []
        while rows.count < limit {
            filters.limit = min(limit - rows.count, 1_000)
            let page = try await reporting { try await client.scores(filters) }
            rows += page.rows
            guard let next = page.nextCursor else { break }
            filters.cursor = next
        }
        if json {
            print(String(decoding: try WireCoding.encoder().encode(ScorePage(rows: rows, nextCursor: nil)), as: UTF8.self))
        } else {
            print(Self.table(rows))
        }
    }

    static func table(_ rows: [ScoreRow]) -> String {
        guard !rows.isEmpty else { return "No preprints match." }
        func cut(_ text: String, _ width: Int) -> String {
            text.count <= width ? text.padding(toLength: width, withPad: " ", startingAt: 0) : String(text.prefix(width - 1)) + "…"
        }
        var lines = [
            cut("PREPRINT", 22) + " " + cut("TITLE", 34) + " " + cut("SCORE", 6) + " " + cut("k/K", 6) + " "
                + cut("RUNS", 6) + " " + cut("BADGE", 10) + " FEEDBACK (rep/part/not, rating)"
        ]
        for row in rows {
            let score = row.score.map { String(format: "%.2f", $0) } ?? "—"
            let rating = row.feedback.ratingBayesian.map { String(format: "%.2f", $0) } ?? "–"
            lines.append(
                cut(row.preprintID, 22) + " " + cut(row.title, 34) + " " + cut(score, 6) + " "
                    + cut("\(row.reproduced)/\(row.decided)", 6) + " " + cut("\(row.runs)", 6) + " "
                    + cut(row.badge ?? "", 10) + " "
                    + "\(row.feedback.reproduced)/\(row.feedback.partially)/\(row.feedback.notReproduced), \(rating)")
        }
        return lines.joined(separator: "\n")
    }
}
