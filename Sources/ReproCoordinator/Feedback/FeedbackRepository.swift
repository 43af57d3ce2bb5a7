import Foundation
import Logging
import PostgresNIO
import ReproCore
import ReproStats

/// Community feedback: posts (one current verdict per account and preprint, older versions kept),
/// votes, moderation, pages and the §5 summary.
public struct FeedbackRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger

    /// Creates the repository.
    public init(client: DatabaseClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    static let columns = """
        id, preprint_id, account_id, study_id, verdict, rating, tags, body, helpful, unhelpful, created_at,
        replaced_at, hidden_at, hidden_reason
        """

    typealias Row = (UUID, String, UUID, UUID?, String, Int?, [String], String, Int, Int, Date, Date?, Date?, String?)

    static func view(_ row: Row) -> FeedbackView {
        FeedbackView(
            id: row.0, preprintID: row.1, accountID: row.2, studyID: row.3,
            verdict: FeedbackItem.Verdict(rawValue: row.4) ?? .comment, rating: row.5, tags: row.6, text: row.7,
            helpful: row.8, unhelpful: row.9, createdAt: row.10, replacedAt: row.11, hiddenAt: row.12,
            hiddenReason: row.13)
    }

    /// Stores `input` as the account's current feedback on the preprint, replacing (and keeping) the
    /// previous one, and updates the aggregates; one transaction.
    func post(preprint: String, account: UUID, input: FeedbackInput) async throws -> FeedbackPosted {
        try await client.withTransaction(logger: logger) { connection in
            // Serializes two posts of one account on one preprint (the unique index would reject the
            // second with an error instead of replacing).
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\(account.uuidString + "|" + preprint), 0))",
                logger: logger)
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM preprints WHERE id = \(preprint)", logger: logger) {
                exists = true
            }
            guard exists else { throw Problem.notFound("No preprint \(preprint).", field: "id") }
            if let study = input.studyID {
                var owner: String?
                let rows = try await connection.query("SELECT preprint_id FROM studies WHERE id = \(study)", logger: logger)
                for try await id in rows.decode(String.self) { owner = id }
                guard owner == preprint else {
                    throw Problem.badRequest("study_id \(study) is not a study of \(preprint).", field: "study_id")
                }
            }
            let previous = try await connection.query(
                """
                UPDATE feedback SET replaced_at = now()
                WHERE preprint_id = \(preprint) AND account_id = \(account) AND replaced_at IS NULL
                RETURNING verdict, rating, tags, body, hidden_at IS NOT NULL
                """, logger: logger)
            for try await (verdict, rating, tags, body, hidden) in previous.decode((String, Int?, [String], String, Bool).self)
            where !hidden {
                let old = FeedbackAggregates.Contribution(
                    preprintID: preprint, verdict: FeedbackItem.Verdict(rawValue: verdict) ?? .comment, rating: rating,
                    tags: tags, text: body)
                try await FeedbackAggregates.apply(old, sign: -1, on: connection, logger: logger)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO feedback (preprint_id, account_id, study_id, verdict, rating, tags, body)
                VALUES (\(preprint), \(account), \(input.studyID), \(input.verdict.rawValue), \(input.rating),
                        \(input.tags)::text[], \(input.text))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            var stored: FeedbackView?
            for try await row in inserted.decode(Row.self) { stored = Self.view(row) }
            guard let stored else { throw Problem.badRequest("The feedback was not stored.") }
            let new = FeedbackAggregates.Contribution(
                preprintID: preprint, verdict: input.verdict, rating: input.rating, tags: input.tags, text: input.text)
            try await FeedbackAggregates.apply(new, sign: 1, on: connection, logger: logger)
            let history = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM feedback
                WHERE preprint_id = \(preprint) AND account_id = \(account) AND replaced_at IS NOT NULL
                ORDER BY created_at DESC, id DESC
                """, logger: logger)
            var versions: [FeedbackView] = []
            for try await row in history.decode(Row.self) { versions.append(Self.view(row)) }
            return FeedbackPosted(feedback: stored, history: versions)
        }
    }

    /// A page of a preprint's current feedback, newest first. The cursor is the last item's id; the
    /// keyset (created_at, id) is read from that row, so the page boundary is exact.
    func list(preprint: String, includeHidden: Bool, cursor: UUID?, limit: Int) async throws -> FeedbackPage {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM feedback f
            WHERE f.preprint_id = \(preprint) AND f.replaced_at IS NULL AND (\(includeHidden) OR f.hidden_at IS NULL)
              AND (\(cursor)::uuid IS NULL
                   OR (f.created_at, f.id) < (SELECT c.created_at, c.id FROM feedback c WHERE c.id = \(cursor)))
            ORDER BY f.created_at DESC, f.id DESC
            LIMIT \(limit + 1)
            """, logger: logger)
        var items: [FeedbackView] = []
        for try await row in rows.decode(Row.self) { items.append(Self.view(row)) }
        let more = items.count > limit
        if more { items.removeLast() }
        return FeedbackPage(items: items, nextCursor: more ? items.last?.id.uuidString.lowercased() : nil)
    }

    /// Sets (`kind`) or removes (nil) the account's vote on a current item; nil when no such item.
    func vote(feedback: UUID, account: UUID, kind: FeedbackVote.Kind?) async throws -> FeedbackVotes? {
        try await client.withTransaction(logger: logger) { connection -> FeedbackVotes? in
            var author: UUID?
            let rows = try await connection.query(
                "SELECT account_id FROM feedback WHERE id = \(feedback) AND replaced_at IS NULL FOR UPDATE", logger: logger)
            for try await id in rows.decode(UUID.self) { author = id }
            guard let author else { return nil }
            if kind != nil, author == account {
                // Helpful votes rank highlights; an author's own vote would let anyone promote their item.
                throw Problem.conflict("You cannot vote on your own feedback; votes are other people's judgement of it.", field: "id")
            }
            if let kind {
                try await connection.query(
                    """
                    INSERT INTO feedback_votes (feedback_id, account_id, helpful) VALUES (\(feedback), \(account), \(kind == .helpful))
                    ON CONFLICT (feedback_id, account_id) DO UPDATE SET helpful = EXCLUDED.helpful, voted_at = now()
                    """, logger: logger)
            } else {
                try await connection.query(
                    "DELETE FROM feedback_votes WHERE feedback_id = \(feedback) AND account_id = \(account)", logger: logger)
            }
            // Recounted from the votes (the item's row is locked), so the counters cannot drift; the
            // helpful lower bound is stored so highlights are an index scan, not a pass over all items.
            let counts = try await connection.query(
                """
                UPDATE feedback SET
                    helpful = (SELECT count(*) FROM feedback_votes WHERE feedback_id = \(feedback) AND helpful),
                    unhelpful = (SELECT count(*) FROM feedback_votes WHERE feedback_id = \(feedback) AND NOT helpful)
                WHERE id = \(feedback)
                RETURNING helpful, unhelpful
                """, logger: logger)
            for try await (helpful, unhelpful) in counts.decode((Int, Int).self) {
                let bound = Wilson.lowerBound(successes: helpful, trials: helpful + unhelpful)
                try await connection.query(
                    "UPDATE feedback SET helpful_lb = \(bound) WHERE id = \(feedback)", logger: logger)
                return FeedbackVotes(feedbackID: feedback, helpful: helpful, unhelpful: unhelpful, yourVote: kind)
            }
            return nil
        }
    }

    /// Hides an item with the moderator's reason; it stays stored. Nil when no such item; hiding twice
    /// keeps the first reason.
    func hide(feedback: UUID, moderator: UUID, reason: String) async throws -> FeedbackView? {
        try await client.withTransaction(logger: logger) { connection -> FeedbackView? in
            let rows = try await connection.query(
                """
                UPDATE feedback SET hidden_at = now(), hidden_by = \(moderator), hidden_reason = \(reason)
                WHERE id = \(feedback) AND hidden_at IS NULL
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            var hidden: FeedbackView?
            for try await row in rows.decode(Row.self) { hidden = Self.view(row) }
            if let hidden {
                if hidden.replacedAt == nil {
                    let item = FeedbackAggregates.Contribution(
                        preprintID: hidden.preprintID, verdict: hidden.verdict, rating: hidden.rating, tags: hidden.tags,
                        text: hidden.text)
                    try await FeedbackAggregates.apply(item, sign: -1, on: connection, logger: logger)
                }
                return hidden
            }
            let existing = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM feedback WHERE id = \(feedback)", logger: logger)
            for try await row in existing.decode(Row.self) { return Self.view(row) }
            return nil
        }
    }

    /// The mean of every visible rating (C) and the number of visible items (N).
    func totals() async throws -> (meanRating: Double?, documents: Int) {
        let rows = try await client.query(
            "SELECT documents, rating_sum, rating_count FROM feedback_totals WHERE id = 1", logger: logger)
        for try await (documents, sum, count) in rows.decode((Int64, Int64, Int64).self) {
            return (count > 0 ? Double(sum) / Double(count) : nil, Int(documents))
        }
        return (nil, 0)
    }

    /// The §5 summary of a preprint's visible current feedback, read from the aggregates maintained on
    /// write (counts, tag counts, stored helpful lower bounds, term counts) with ReproStats' formulas;
    /// a test checks it equals `FeedbackStatistics` computed from the items themselves.
    func summary(preprint: String) async throws -> FeedbackSummary {
        let totals = try await totals()
        var counts = FeedbackSummary.VerdictCounts(reproduced: 0, partially: 0, notReproduced: 0, comment: 0)
        var items = 0
        var ratingSum = 0
        var ratingCount = 0
        var singleTerms = 0
        let stats = try await client.query(
            """
            SELECT items, reproduced, partially, not_reproduced, comment, rating_sum, rating_count, single_terms
            FROM preprint_feedback_stats WHERE preprint_id = \(preprint)
            """, logger: logger)
        for try await row in stats.decode((Int, Int, Int, Int, Int, Int64, Int, Int64).self) {
            items = row.0
            counts = .init(reproduced: row.1, partially: row.2, notReproduced: row.3, comment: row.4)
            ratingSum = Int(row.5)
            ratingCount = row.6
            singleTerms = Int(row.7)
        }
        let ratingMean = ratingCount > 0 ? Double(ratingSum) / Double(ratingCount) : nil

        let tagRows = try await client.query(
            """
            SELECT tag, items FROM feedback_preprint_tags WHERE preprint_id = \(preprint) AND items > 0
            ORDER BY items DESC, tag LIMIT 10
            """, logger: logger)
        var tags: [FeedbackSummary.TagCount] = []
        for try await (tag, count) in tagRows.decode((String, Int).self) { tags.append(.init(tag: tag, count: count)) }

        // Same order as FeedbackStatistics: bound, then helpful votes, then id.
        let highlightRows = try await client.query(
            """
            SELECT id, helpful, unhelpful, helpful_lb FROM feedback
            WHERE preprint_id = \(preprint) AND replaced_at IS NULL AND hidden_at IS NULL AND helpful_lb IS NOT NULL
            ORDER BY helpful_lb DESC, helpful DESC, id LIMIT 3
            """, logger: logger)
        var highlights: [FeedbackSummary.Highlight] = []
        for try await (id, helpful, unhelpful, bound) in highlightRows.decode((UUID, Int, Int, Double).self) {
            highlights.append(
                .init(id: id.uuidString.lowercased(), helpful: helpful, unhelpful: unhelpful, helpfulLowerBound: bound))
        }

        let termRows = try await client.query(
            """
            SELECT t.term, t.occurrences, coalesce(f.documents, 0)
            FROM feedback_preprint_terms t LEFT JOIN feedback_terms f ON f.term = t.term
            WHERE t.preprint_id = \(preprint) AND t.occurrences > 0
            """, logger: logger)
        var terms: [KeyPhraseRanking.Term] = []
        for try await (term, occurrences, documents) in termRows.decode((String, Int, Int).self) {
            terms.append(.init(phrase: term, occurrences: occurrences, documentFrequency: documents))
        }
        let prior = BayesianAverage.defaultPriorWeight
        return FeedbackSummary(
            preprintID: preprint, items: items, verdictCounts: counts,
            reproducedShareLowerBound: Wilson.lowerBound(
                successes: counts.reproduced, trials: counts.reproduced + counts.notReproduced),
            ratingMean: ratingMean, ratingCount: ratingCount,
            ratingBayesian: totals.meanRating.flatMap {
                BayesianAverage.value(mean: ratingMean ?? 0, count: ratingCount, priorMean: $0, priorWeight: prior)
            },
            globalMeanRating: totals.meanRating, priorWeight: prior, topTags: tags, highlights: highlights,
            keyPhrases: KeyPhraseRanking.top(terms: terms, singleTerms: singleTerms, documents: totals.documents))
    }
}
