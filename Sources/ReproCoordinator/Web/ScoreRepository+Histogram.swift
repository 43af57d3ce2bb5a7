import Foundation
import PostgresNIO

extension ScoreRepository {
    /// Scores of the whole filtered set of `GET /v1/scores` (every page, not just one) in `bins` equal
    /// bins over 0–100, and how many rows of the set have no score: counted in SQL, so a set of
    /// 100 000 preprints costs one aggregate, not 100 000 rows.
    func histogram(_ query: ScoreQuery, bins: Int = 20) async throws -> (counts: [Int], unscored: Int) {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        // The same filters as ``page(_:)``, without the cursor.
        var conditions: [String] = []
        if let funder = query.funder { conditions.append("s.funder_keys @> ARRAY[lower(\(bind(funder)))]") }
        if let grant = query.grant { conditions.append("s.grant_keys @> ARRAY[lower(\(bind(grant)))]") }
        if let institution = query.institution {
            conditions.append("s.institution_keys @> ARRAY[lower(\(bind(institution)))]")
        }
        if let field = query.field { conditions.append("lower(s.field) = lower(\(bind(field)))") }
        if let minScore = query.minScore { conditions.append("s.score >= \(bind(minScore))") }
        if let maxScore = query.maxScore { conditions.append("s.score <= \(bind(maxScore))") }
        if query.scoredOnly { conditions.append("s.score IS NOT NULL") }
        if let since = query.updatedSince { conditions.append("s.updated_at >= \(bind(since))") }
        if query.completedOnly { conditions.append("s.has_completed_study") }
        let sql = """
            SELECT CASE WHEN s.score IS NULL THEN -1 ELSE least(floor(s.score / (100.0 / \(bins)))::int, \(bins - 1)) END AS bin,
                   count(*)
            FROM preprint_scores s
            WHERE \(conditions.isEmpty ? "true" : conditions.joined(separator: " AND "))
            GROUP BY 1
            """
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        var counts = [Int](repeating: 0, count: bins)
        var unscored = 0
        for try await (bin, count) in rows.decode((Int, Int64).self) {
            if bin < 0 { unscored = Int(count) } else if bin < bins { counts[bin] += Int(count) }
        }
        return (counts, unscored)
    }
}
