import Foundation
import Hummingbird
import ReproCore

/// The filters, sort and page of `GET /v1/scores`, read from the query string; every bad value is a
/// 400 naming its parameter.
struct ScoreQuery: Sendable {
    enum Sort: String, Sendable, CaseIterable {
        case score, runs, date
    }

    enum Direction: String, Sendable {
        case asc, desc
    }

    /// Where the previous page ended: its last row's sort key and id. Opaque to clients (base64url
    /// JSON), and checked against the sort it was made for.
    struct Cursor: Codable, Sendable, Equatable {
        var sort: String
        var direction: String
        /// The sort key: score (−1 for unscored), runs, or microseconds since 1970 for `date`.
        var key: Double
        var id: String

        func encoded() -> String {
            let data = (try? JSONEncoder().encode(self)) ?? Data()
            return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }

        static func decode(_ text: String) -> Cursor? {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64) else { return nil }
            return try? JSONDecoder().decode(Cursor.self, from: data)
        }
    }

    var funder: String?
    var grant: String?
    var institution: String?
    var field: String?
    var minScore: Double?
    var maxScore: Double?
    var scoredOnly = false
    var updatedSince: Date?
    var sort: Sort = .score
    var direction: Direction = .desc
    var limit = 50
    var cursor: Cursor?
    var csv = false
    /// Set for the anonymous reader of `--public-read`.
    var completedOnly = false

    static let maxLimit = 1_000
    /// Longest cursor accepted (the contract's `maxLength`); a handed-out one is at most ~400 characters.
    static let maxCursorLength = 2_000

    /// Reads the query string; `accept` decides CSV when `format` is absent.
    init(request: Request) throws {
        let parameters = try QueryParameters(request)
        func text(_ name: String, maxLength: Int = 200) throws -> String? {
            guard let value = parameters[name] else { return nil }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= maxLength else {
                throw Problem.badRequest("\(name) must be 1–\(maxLength) characters.", field: name)
            }
            try RequestBody.checkStorable(trimmed, field: name)
            return trimmed
        }
        func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
            guard let value = try text(name) else { return nil }
            guard let number = Double(value), number.isFinite, range.contains(number) else {
                throw Problem.badRequest(
                    "\(name) must be a number from \(Int(range.lowerBound)) to \(Int(range.upperBound)).", field: name)
            }
            return number
        }
        funder = try text("funder")
        grant = try text("grant")
        institution = try text("institution")
        field = try text("field")
        minScore = try number("min_score", in: 0...100)
        maxScore = try number("max_score", in: 0...100)
        if let minScore, let maxScore, minScore > maxScore {
            throw Problem.badRequest("min_score is above max_score.", field: "min_score")
        }
        if let value = try text("scored_only") {
            guard let flag = Bool(value.lowercased()) else {
                throw Problem.badRequest("scored_only must be true or false.", field: "scored_only")
            }
            scoredOnly = flag
        }
        if let value = try text("updated_since") {
            guard let date = Self.parseDate(value) else {
                throw Problem.badRequest(
                    "updated_since must be an ISO 8601 date-time or date (2026-01-31).", field: "updated_since")
            }
            updatedSince = date
        }
        if let value = try text("sort") {
            // `-score` is short for sort=score&order=desc.
            let name = value.hasPrefix("-") ? String(value.dropFirst()) : value
            guard let parsed = Sort(rawValue: name) else {
                throw Problem.badRequest("sort must be one of score, runs, date.", field: "sort")
            }
            sort = parsed
            if value.hasPrefix("-") { direction = .desc }
        }
        if let value = try text("order") {
            guard let parsed = Direction(rawValue: value.lowercased()) else {
                throw Problem.badRequest("order must be asc or desc.", field: "order")
            }
            direction = parsed
        }
        if let value = try text("limit") {
            guard let parsed = Int(value), (1...Self.maxLimit).contains(parsed) else {
                throw Problem.badRequest("limit must be an integer from 1 to \(Self.maxLimit).", field: "limit")
            }
            limit = parsed
        }
        // A cursor carries the last row's id (up to 200 characters, a long DOI) in base64url JSON, so it is
        // longer than the other parameters: at 200 characters a page ending on such a preprint handed out
        // a cursor its own next request refused.
        if let value = try text("cursor", maxLength: Self.maxCursorLength) {
            guard let parsed = Cursor.decode(value) else {
                throw Problem.badRequest("cursor is not a cursor this API handed out.", field: "cursor")
            }
            guard parsed.sort == sort.rawValue, parsed.direction == direction.rawValue else {
                throw Problem.badRequest(
                    "cursor belongs to sort=\(parsed.sort)&order=\(parsed.direction); repeat the same sort.",
                    field: "cursor")
            }
            // The key is bound as an int for runs and turned into a timestamp for dates: a forged key
            // out of those ranges would trap in Swift or fail in PostgreSQL instead of answering 400.
            let keyFits: Bool
            switch sort {
            case .score: keyFits = parsed.key.isFinite
            case .runs: keyFits = Int32(exactly: parsed.key) != nil
            case .date: keyFits = parsed.key.isFinite && abs(parsed.key) < 1e16  // microseconds, ±300 years of 1970
            }
            // The id is compared with stored preprint ids in PostgreSQL, which cannot take NUL (a forged
            // cursor holding one answered 500) nor a key longer than an index entry.
            guard keyFits, StorableText.isStorable(parsed.id), parsed.id.utf8.count <= 1_000 else {
                throw Problem.badRequest("cursor is not a cursor this API handed out.", field: "cursor")
            }
            cursor = parsed
        }
        if let value = try text("format") {
            switch value.lowercased() {
            case "csv": csv = true
            case "json": csv = false
            default: throw Problem.badRequest("format must be csv or json.", field: "format")
            }
        } else {
            csv = (request.headers[.accept] ?? "").lowercased().contains("text/csv")
        }
    }

    static func parseDate(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().year().month().day().parse(text)
    }
}
