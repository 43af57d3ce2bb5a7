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

    /// Claims preprints whose score is stale: up to `limit` flagged ones and those of up to `limit` marks
    /// (runs accepted since the last claim), in one statement.
    ///
    /// The flag (a study completed or was cancelled, a run's acceptance changed) is cleared with FOR UPDATE
    /// SKIP LOCKED: a transaction that set it and has not committed keeps it set for the next pass. The marks
    /// that accepted runs append (migration 0016, decision 0018) are deleted as this statement sees them: a
    /// mark committed after its snapshot stays for the next pass, and the recomputation, which starts after
    /// this commit, sees the runs of every mark deleted here. Result transactions take no lock the claim
    /// takes and write no row it writes, so neither waits for the other.
    func claimDirty(limit: Int) async throws -> [String] {
        let rows = try await client.query(
            """
            WITH marked AS (
                DELETE FROM score_marks
                WHERE preprint_id IN (SELECT DISTINCT preprint_id FROM score_marks ORDER BY 1 LIMIT \(limit))
                RETURNING preprint_id
            ), flagged AS (
                UPDATE preprints SET score_dirty = false
                WHERE id IN (SELECT id FROM preprints WHERE score_dirty ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id
            )
            SELECT preprint_id FROM marked UNION SELECT id FROM flagged ORDER BY 1
            """, logger: logger)
        var ids: [String] = []
        for try await id in rows.decode(String.self) { ids.append(id) }
        return ids
    }

    /// Marks preprints stale again (after a failed recomputation).
    func markDirty(_ preprints: [String]) async throws {
        try await client.query("UPDATE preprints SET score_dirty = true WHERE id = ANY(\(preprints))", logger: logger)
    }

    /// Recomputes one preprint's score and stores it, adding a history row only when it changed.
    /// Returns true when it changed. The preprint_scores row is locked while computing, so two
    /// replicas never interleave: the later one computes after the earlier one wrote.
    ///
    /// Its database calls get more time the more runs the preprint's studies can have (at most their task
    /// count; ``recomputeTimePerRun`` each), as a large submission does (decision 0006): the reading of every
    /// run of a preprint with several hundred thousand missed the 10 s deadline in every pass, so its score
    /// was never brought up to date (issue 16).
    @discardableResult
    func recompute(_ preprint: String) async throws -> Bool {
        let bound = try await client.query(
            "SELECT coalesce(sum(task_count), 0)::int8 FROM studies WHERE preprint_id = \(preprint)", logger: logger)
        var runs: Int64 = 0
        for try await value in bound.decode(Int64.self) { runs = value }
        let client = self.client.allowing(Self.recomputeTimePerRun * Int(runs))
        let reports = ReportRepository(client: client, studies: self.reports.studies, logger: logger)
        return try await client.withTransaction(logger: logger) { connection -> Bool in
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

    /// Extra database time a recomputation gets per run its preprint's studies can have: 40 s for a million.
    static let recomputeTimePerRun = Duration.microseconds(40)

    /// Recomputes the stale preprints, in batches while a claim fills its batch; returns how many changed.
    /// Preprints marked stale during the pass (results keep arriving while a study runs) wait for the next
    /// pass: a pass that claimed again until nothing was left recomputed a running study's score back to back.
    ///
    /// The claim cleared the flag of the whole batch, so when a recomputation fails the rest of the
    /// batch is marked stale again. When the database is down that fails too: the error then names
    /// the preprints left unmarked (``UnfinishedScores``), and the maintainer marks them once the
    /// database is back, so no change is lost to an outage.
    @discardableResult
    public func recomputeDirty(batch: Int = 20) async throws -> Int {
        try await recomputeDirtyCounted(batch: batch).changed
    }

    /// ``recomputeDirty(batch:)``, also saying how many preprints the pass claimed (recomputed or tried to).
    func recomputeDirtyCounted(batch: Int = 20) async throws -> (claimed: Int, changed: Int) {
        var changed = 0
        var claimed = 0
        while true {
            let ids = try await claimDirty(limit: batch)
            claimed += ids.count
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
            if ids.count < batch { return (claimed, changed) }
        }
    }

    /// Preprints whose flag a failed pass cleared and could not set again; their scores are stale.
    struct UnfinishedScores: Error, CustomStringConvertible {
        let preprints: [String]
        let underlying: any Error
        var description: String { "\(preprints.count) preprint(s) left unmarked: \(underlying)" }
    }
}
