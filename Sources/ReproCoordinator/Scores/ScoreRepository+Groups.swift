import Foundation
import PostgresNIO
import ReproCore

/// Aggregates of a funder's or an institution's preprints.
extension ScoreRepository {
    enum Group: String {
        case funder, institution
    }

    /// The summary of every preprint the funder funded (or the institution appears on).
    func summary(of group: Group, name: String, completedOnly: Bool) async throws -> ScoreGroupSummary {
        let key = name.lowercased()
        // lower() in SQL, as the trigger that fills the key arrays does: Swift's lowercased() differs
        // for some non-ASCII names ("İ").
        let condition = group == .funder ? "funder_keys @> ARRAY[lower($1)]" : "institution_keys @> ARRAY[lower($1)]"
        var binds = PostgresBindings()
        binds.append(name)
        binds.append(completedOnly)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT preprint_id, title, score, badge, runs, funding::text FROM preprint_scores
                    WHERE \(condition) AND (NOT $2 OR has_completed_study)
                    ORDER BY preprint_id
                    """, binds: binds), logger: logger)
        var preprints = 0
        var scores: [Double] = []
        var badged = 0
        var runs = 0
        var grants: [String: GrantScores] = [:]
        for try await (id, title, score, badge, preprintRuns, funding)
            in rows.decode((String, String, Double?, String?, Int, String).self)
        {
            preprints += 1
            if let score { scores.append(score) }
            if badge == "reproduced" { badged += 1 }
            runs += preprintRuns
            var seen = Set<String>()
            for entry in Self.funding(funding) where group == .institution || entry.funder.lowercased() == key {
                let grantKey = entry.funder.lowercased() + "\u{1F}" + (entry.grant ?? "")
                guard seen.insert(grantKey).inserted else { continue }
                grants[grantKey, default: GrantScores(grant: entry.grant, funder: entry.funder, preprints: [])]
                    .preprints.append(.init(preprintID: id, title: title, score: score, badge: badge))
            }
        }
        let ordered = grants.values.sorted {
            ($0.funder.lowercased(), $0.grant ?? "") < ($1.funder.lowercased(), $1.grant ?? "")
        }
        return ScoreGroupSummary(
            kind: group.rawValue, name: name, preprints: preprints, scored: scores.count,
            quantiles: Self.quantiles(scores),
            reproducedBadgeShare: preprints > 0 ? Double(badged) / Double(preprints) : nil,
            meanRunsPerPreprint: preprints > 0 ? Double(runs) / Double(preprints) : nil, grants: ordered)
    }

    /// min, quartiles and max with linear interpolation between order statistics (numpy's default).
    static func quantiles(_ values: [Double]) -> ScoreQuantiles? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let lower = Int(position.rounded(.down))
            let upper = min(lower + 1, sorted.count - 1)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        }
        return ScoreQuantiles(
            min: sorted[0], p25: quantile(0.25), median: quantile(0.5), p75: quantile(0.75), max: sorted[sorted.count - 1])
    }
}
