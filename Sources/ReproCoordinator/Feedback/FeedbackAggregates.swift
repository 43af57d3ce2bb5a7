import Foundation
import Logging
import PostgresNIO
import ReproStats

/// Keeps the feedback aggregates (per-preprint counts and term occurrences, global totals and
/// document frequencies) in step with the set of visible current items. Called inside the
/// transaction that changes an item, once with -1 when an item leaves the set (replaced, hidden) and
/// once with +1 when one enters it, so summaries never have to scan or re-tokenize every text.
enum FeedbackAggregates {
    /// What an item contributes.
    struct Contribution {
        var preprintID: String
        var verdict: FeedbackItem.Verdict
        var rating: Int?
        var tags: [String]
        var text: String
    }

    /// Adds (`sign` = 1) or removes (`sign` = -1) one item's contribution.
    static func apply(_ item: Contribution, sign: Int, on connection: PostgresConnection, logger: Logger) async throws {
        let terms = KeyPhrases.terms(in: item.text)
        var occurrences: [String: Int] = [:]
        for term in terms { occurrences[term, default: 0] += 1 }
        // Sorted, so concurrent writers lock term rows in the same order and cannot deadlock.
        let distinct = occurrences.keys.sorted()
        let counts = distinct.map { occurrences[$0]! * sign }
        let singleTerms = terms.count { !$0.contains(" ") } * sign
        let ratingSum = (item.rating ?? 0) * sign
        let rated = item.rating == nil ? 0 : sign
        func one(_ verdict: FeedbackItem.Verdict) -> Int { item.verdict == verdict ? sign : 0 }

        // The totals row first: every feedback writer takes it, which orders them and rules out deadlocks.
        try await connection.query(
            """
            UPDATE feedback_totals SET documents = documents + \(sign), rating_sum = rating_sum + \(ratingSum),
                   rating_count = rating_count + \(rated)
            WHERE id = 1
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO preprint_feedback_stats AS s
                (preprint_id, items, reproduced, partially, not_reproduced, comment, rating_sum, rating_count, single_terms)
            VALUES (\(item.preprintID), \(sign), \(one(.reproduced)), \(one(.partially)), \(one(.notReproduced)),
                    \(one(.comment)), \(ratingSum), \(rated), \(singleTerms))
            ON CONFLICT (preprint_id) DO UPDATE SET
                items = s.items + EXCLUDED.items, reproduced = s.reproduced + EXCLUDED.reproduced,
                partially = s.partially + EXCLUDED.partially, not_reproduced = s.not_reproduced + EXCLUDED.not_reproduced,
                comment = s.comment + EXCLUDED.comment, rating_sum = s.rating_sum + EXCLUDED.rating_sum,
                rating_count = s.rating_count + EXCLUDED.rating_count, single_terms = s.single_terms + EXCLUDED.single_terms
            """, logger: logger)
        if !item.tags.isEmpty {
            let tags = Array(Set(item.tags)).sorted()
            try await connection.query(
                """
                INSERT INTO feedback_preprint_tags AS p (preprint_id, tag, items)
                SELECT \(item.preprintID), t, \(sign) FROM unnest(\(tags)::text[]) AS t
                ON CONFLICT (preprint_id, tag) DO UPDATE SET items = p.items + EXCLUDED.items
                """, logger: logger)
        }
        guard !distinct.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO feedback_terms AS f (term, documents)
            SELECT t, \(sign) FROM unnest(\(distinct)::text[]) AS t
            ON CONFLICT (term) DO UPDATE SET documents = f.documents + EXCLUDED.documents
            """, logger: logger)
        try await connection.query(
            """
            INSERT INTO feedback_preprint_terms AS p (preprint_id, term, occurrences)
            SELECT \(item.preprintID), t, c FROM unnest(\(distinct)::text[], \(counts)::int[]) AS u(t, c)
            ON CONFLICT (preprint_id, term) DO UPDATE SET occurrences = p.occurrences + EXCLUDED.occurrences
            """, logger: logger)
        if sign < 0 {
            // Terms no visible item uses any more would only grow the tables.
            try await connection.query(
                """
                DELETE FROM feedback_preprint_terms
                WHERE preprint_id = \(item.preprintID) AND term = ANY(\(distinct)::text[]) AND occurrences <= 0
                """, logger: logger)
        }
    }
}
