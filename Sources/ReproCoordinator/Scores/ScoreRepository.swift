import Foundation
import Logging
import PostgresNIO
import ReproCore
import ReproStats

/// Stored scores: the funders' table with keyset pagination, score history, funder and institution
/// summaries, and the write side the ``ScoreMaintainer`` uses.
public struct ScoreRepository: Sendable {
    let client: DatabaseClient
    let reports: ReportRepository
    let feedback: FeedbackRepository
    let logger: Logger

    /// Creates the repository.
    public init(client: DatabaseClient, studies: StudyRepository, logger: Logger) {
        self.client = client
        self.reports = ReportRepository(client: client, studies: studies, logger: logger)
        self.feedback = FeedbackRepository(client: client, logger: logger)
        self.logger = logger
    }

    // MARK: - The funders' table

    /// One page of `GET /v1/scores`.
    func page(_ query: ScoreQuery) async throws -> ScorePage {
        let meanRating = try await feedback.totals().meanRating
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        let sortKey: String
        let sortColumn: String
        switch query.sort {
        case .score:
            sortKey = "coalesce(s.score, -1)"
            sortColumn = sortKey
        case .runs:
            sortKey = "s.runs::float8"
            sortColumn = "s.runs"
        case .date:
            sortKey = "floor(extract(epoch FROM s.updated_at) * 1000000)::float8"
            sortColumn = "s.updated_at"
        }
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
        let descending = query.direction == .desc
        if let cursor = query.cursor {
            let key: String
            switch query.sort {
            case .score: key = bind(cursor.key)
            case .runs: key = "\(bind(Int(cursor.key)))::int"
            case .date: key = "('epoch'::timestamptz + interval '1 microsecond' * \(bind(cursor.key)))"
            }
            conditions.append("(\(sortColumn), s.preprint_id) \(descending ? "<" : ">") (\(key), \(bind(cursor.id)))")
        }
        let order = descending ? "DESC" : "ASC"
        let sql = """
            SELECT s.preprint_id, s.title, s.institutions, s.field, s.funding::text, s.score, s.reproduced, s.decided,
                   s.inconclusive, s.runs, s.badge, s.updated_at, \(sortKey),
                   coalesce(f.reproduced, 0), coalesce(f.partially, 0), coalesce(f.not_reproduced, 0),
                   coalesce(f.comment, 0), coalesce(f.rating_sum, 0)::bigint, coalesce(f.rating_count, 0)
            FROM preprint_scores s LEFT JOIN preprint_feedback_stats f ON f.preprint_id = s.preprint_id
            WHERE \(conditions.isEmpty ? "true" : conditions.joined(separator: " AND "))
            ORDER BY \(sortColumn) \(order), s.preprint_id \(order)
            LIMIT \(query.limit + 1)
            """
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        var result: [(row: ScoreRow, key: Double)] = []
        for try await row in rows.decode(
            (String, String, [String], String?, String, Double?, Int, Int, Int, Int, String?, Date, Double,
                Int, Int, Int, Int, Int64, Int).self)
        {
            let ratingCount = row.18
            let headline = FeedbackHeadline(
                reproduced: row.13, partially: row.14, notReproduced: row.15, comment: row.16,
                ratingBayesian: meanRating.flatMap {
                    BayesianAverage.value(
                        mean: ratingCount > 0 ? Double(row.17) / Double(ratingCount) : 0, count: ratingCount,
                        priorMean: $0)
                }, ratingCount: ratingCount)
            let scoreRow = ScoreRow(
                preprintID: row.0, title: row.1, institutions: row.2, field: row.3, funding: Self.funding(row.4),
                score: row.5, reproduced: row.6, decided: row.7, inconclusive: row.8, runs: row.9, badge: row.10,
                feedback: headline, updatedAt: row.11)
            result.append((scoreRow, row.12))
        }
        var next: String?
        if result.count > query.limit {
            result.removeLast()
            if let last = result.last {
                next = ScoreQuery.Cursor(
                    sort: query.sort.rawValue, direction: query.direction.rawValue, key: last.key,
                    id: last.row.preprintID
                ).encoded()
            }
        }
        return ScorePage(rows: result.map(\.row), nextCursor: next)
    }

    static func funding(_ json: String) -> [FundingEntry] {
        (try? JSONDecoder().decode([FundingEntry].self, from: Data(json.utf8))) ?? []
    }

    // MARK: - History

    /// Every recorded value of a preprint's score, oldest first; nil when the preprint is unknown (or
    /// hidden from the anonymous reader).
    func history(preprint: String, completedOnly: Bool) async throws -> ScoreHistory? {
        let exists = try await client.query(
            "SELECT 1 FROM preprint_scores WHERE preprint_id = \(preprint) AND (NOT \(completedOnly) OR has_completed_study)",
            logger: logger)
        var found = false
        for try await _ in exists { found = true }
        guard found else { return nil }
        let rows = try await client.query(
            """
            SELECT score, reproduced, decided, inconclusive, insufficient_runs, runs, badge, computed_at
            FROM preprint_score_history WHERE preprint_id = \(preprint) ORDER BY id
            """, logger: logger)
        var entries: [ScoreHistoryEntry] = []
        for try await row in rows.decode((Double?, Int, Int, Int, Int, Int, String?, Date).self) {
            entries.append(
                ScoreHistoryEntry(
                    score: row.0, reproduced: row.1, decided: row.2, inconclusive: row.3, insufficientRuns: row.4,
                    runs: row.5, badge: row.6, computedAt: row.7))
        }
        return ScoreHistory(preprintID: preprint, entries: entries)
    }

    // MARK: - Maintenance

    /// Claims up to `limit` preprints whose score is stale. The flag is cleared in this short
    /// transaction; a change committed later sets it again, so nothing is lost.
    ///
    /// A result transaction sets the flag only when it is clear, and holds a shared advisory lock on the
    /// preprint (``scoreFenceClass``) from before it looks at the flag until it commits (migration 0014,
    /// decision 0017). The claim first takes that lock exclusively on each stale preprint, in id order as the
    /// trigger does, and clears the flag only then: every result transaction that looked before has committed
    /// (the recomputation that follows sees its runs), and every one that looks after waits for this commit
    /// and finds the flag clear, so it sets it again. Without the wait, a run whose transaction saw the flag
    /// set could stay out of the score until the next result.
    ///
    /// The advisory locks come before any row lock, and rows are taken with SKIP LOCKED: a result
    /// transaction holding its shared lock may wait for the preprint's row (the flag, a study completing),
    /// so a claim that held that row while waiting for the advisory lock would deadlock with it.
    func claimDirty(limit: Int) async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection -> [String] in
            let candidates = try await connection.query(
                """
                SELECT id, pg_advisory_xact_lock(\(Self.scoreFenceClass), hashtext(id))::text
                FROM (SELECT id FROM preprints WHERE score_dirty ORDER BY id LIMIT \(limit) OFFSET 0) c
                """, logger: logger)
            var stale: [String] = []
            for try await (id, _) in candidates.decode((String, String).self) { stale.append(id) }
            guard !stale.isEmpty else { return [] }
            let rows = try await connection.query(
                """
                UPDATE preprints SET score_dirty = false
                WHERE id IN (SELECT id FROM preprints WHERE id = ANY(\(stale)) AND score_dirty FOR UPDATE SKIP LOCKED)
                RETURNING id
                """, logger: logger)
            var ids: [String] = []
            for try await id in rows.decode(String.self) { ids.append(id) }
            return ids.sorted()
        }
    }

    /// The class of the advisory lock that result transactions hold, shared, on a preprint whose runs they
    /// insert ("RGSC"; the trigger `runs_inserted_mark_score_dirty` of migration 0014 uses the same number).
    static let scoreFenceClass: Int32 = 0x5247_5343

    /// Marks preprints stale again (after a failed recomputation).
    func markDirty(_ preprints: [String]) async throws {
        try await client.query("UPDATE preprints SET score_dirty = true WHERE id = ANY(\(preprints))", logger: logger)
    }

    /// Recomputes one preprint's score and stores it, adding a history row only when it changed.
    /// Returns true when it changed. The preprint_scores row is locked while computing, so two
    /// replicas never interleave: the later one computes after the earlier one wrote.
    @discardableResult
    func recompute(_ preprint: String) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection -> Bool in
            let current = try await connection.query(
                """
                SELECT score, reproduced, decided, inconclusive, insufficient_runs, runs, badge, has_completed_study,
                       computed_at IS NOT NULL
                FROM preprint_scores WHERE preprint_id = \(preprint) FOR UPDATE
                """, logger: logger)
            var stored: (Double?, Int, Int, Int, Int, Int, String?, Bool, Bool)?
            for try await row in current.decode((Double?, Int, Int, Int, Int, Int, String?, Bool, Bool).self) {
                stored = row
            }
            guard let stored, let computed = try await reports.score(preprint: preprint) else { return false }
            var completed = false
            let studies = try await connection.query(
                "SELECT 1 FROM studies WHERE preprint_id = \(preprint) AND state = 'completed' LIMIT 1", logger: logger)
            for try await _ in studies { completed = true }
            let score = computed.score
            let badge = score.badge?.rawValue
            let changed =
                !stored.8 || stored.0 != score.score || stored.1 != score.reproduced || stored.2 != score.decided
                || stored.3 != score.inconclusive || stored.4 != score.insufficientRuns || stored.5 != score.runs
                || stored.6 != badge
            guard changed || stored.7 != completed else { return false }
            try await connection.query(
                """
                UPDATE preprint_scores SET score = \(score.score), reproduced = \(score.reproduced),
                    decided = \(score.decided), inconclusive = \(score.inconclusive),
                    insufficient_runs = \(score.insufficientRuns), runs = \(score.runs), badge = \(badge),
                    has_completed_study = \(completed), computed_at = now(),
                    updated_at = CASE WHEN \(changed) THEN now() ELSE updated_at END
                WHERE preprint_id = \(preprint)
                """, logger: logger)
            if changed {
                try await connection.query(
                    """
                    INSERT INTO preprint_score_history
                        (preprint_id, score, reproduced, decided, inconclusive, insufficient_runs, runs, badge, computed_at)
                    VALUES (\(preprint), \(score.score), \(score.reproduced), \(score.decided), \(score.inconclusive),
                            \(score.insufficientRuns), \(score.runs), \(badge), now())
                    """, logger: logger)
            }
            return changed
        }
    }

    /// Recomputes every stale preprint (in batches) until none is left; returns how many changed.
    ///
    /// The claim cleared the flag of the whole batch, so when a recomputation fails the rest of the
    /// batch is marked stale again. When the database is down that fails too: the error then names
    /// the preprints left unmarked (``UnfinishedScores``), and the maintainer marks them once the
    /// database is back, so no change is lost to an outage.
    @discardableResult
    public func recomputeDirty(batch: Int = 20) async throws -> Int {
        var changed = 0
        while true {
            let ids = try await claimDirty(limit: batch)
            if ids.isEmpty { return changed }
            for (index, id) in ids.enumerated() {
                do {
                    if try await recompute(id) { changed += 1 }
                } catch {
                    let pending = Array(ids[index...])
                    do {
                        try await markDirty(pending)
                    } catch {
                        throw UnfinishedScores(preprints: pending, underlying: error)
                    }
                    throw error
                }
            }
        }
    }

    /// Preprints whose flag a failed pass cleared and could not set again; their scores are stale.
    struct UnfinishedScores: Error, CustomStringConvertible {
        let preprints: [String]
        let underlying: any Error
        var description: String { "\(preprints.count) preprint(s) left unmarked: \(underlying)" }
    }
}
