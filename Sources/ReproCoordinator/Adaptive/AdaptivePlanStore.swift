import Foundation
import Logging
import PostgresNIO
import ReproCore
import ReproStats

/// The stored plan of an adaptive study and the looks it took (migration 0012), as SQL that runs on a pooled
/// call or inside a caller's transaction, and the progress they amount to.
enum AdaptivePlanStore {
    /// One stored look at one dataset.
    struct LookRow: Sendable, Hashable {
        var dataset: String
        var seeds: Int
        /// Seeds after the step this look added; nil when it stopped the dataset.
        var nextSeeds: Int?
        var stopReason: AdaptiveStopReason?
    }

    /// Records the plan of a study being submitted, in the submission's transaction.
    static func insert(
        _ schedule: AdaptiveSchedule, datasets: [String], maxTaskCount: Int, study: UUID,
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO adaptive_plans (study_id, min_seeds, max_seeds, step, datasets, max_task_count)
            VALUES (\(study), \(schedule.min), \(schedule.max), \(schedule.step), \(datasets), \(maxTaskCount))
            """, logger: logger)
    }

    /// The plan and every look of `study` in one row (no row when the study is not adaptive).
    static func progressQuery(study: UUID) -> PostgresQuery {
        """
        SELECT p.min_seeds, p.max_seeds, p.step, p.datasets, p.max_task_count,
               coalesce(array_agg(l.dataset ORDER BY l.dataset, l.seeds) FILTER (WHERE l.seeds IS NOT NULL), '{}'),
               coalesce(array_agg(l.seeds ORDER BY l.dataset, l.seeds) FILTER (WHERE l.seeds IS NOT NULL), '{}'),
               coalesce(array_agg(coalesce(l.next_seeds, 0) ORDER BY l.dataset, l.seeds)
                        FILTER (WHERE l.seeds IS NOT NULL), '{}'),
               coalesce(array_agg(coalesce(l.stop_reason, '') ORDER BY l.dataset, l.seeds)
                        FILTER (WHERE l.seeds IS NOT NULL), '{}')
        FROM adaptive_plans p LEFT JOIN adaptive_looks l ON l.study_id = p.study_id
        WHERE p.study_id = \(study)
        GROUP BY p.study_id
        """
    }

    /// Reads the row of ``progressQuery(study:)``; nil for a study that is not adaptive.
    static func decodeProgress<Rows: AsyncSequence & Sendable>(_ rows: Rows) async throws -> AdaptiveProgress?
    where Rows.Element == PostgresRow {
        for try await row in rows.decode((Int, Int, Int, [String], Int, [String], [Int], [Int], [String]).self) {
            let looks = (0..<row.5.count).map { index in
                LookRow(
                    dataset: row.5[index], seeds: row.6[index], nextSeeds: row.7[index] == 0 ? nil : row.7[index],
                    stopReason: AdaptiveStopReason(rawValue: row.8[index]))
            }
            return progress(
                AdaptiveSchedule(min: row.0, max: row.1, step: row.2), datasets: row.3, maxTaskCount: row.4,
                looks: looks)
        }
        return nil
    }

    /// Where each dataset stands after `looks`: before its first look it has `min` seeds; after a look, the
    /// seeds that look grew it to, or the seeds it stopped at.
    static func progress(
        _ schedule: AdaptiveSchedule, datasets: [String], maxTaskCount: Int, looks: [LookRow]
    ) -> AdaptiveProgress {
        let byDataset = Dictionary(grouping: looks, by: \.dataset)
        let entries = datasets.map { name in
            let taken = (byDataset[name] ?? []).sorted { $0.seeds < $1.seeds }
            let last = taken.last
            return AdaptiveDataset(
                dataset: name, seeds: last.map { $0.nextSeeds ?? $0.seeds } ?? schedule.min, looks: taken.map(\.seeds),
                stopReason: last?.stopReason)
        }
        return AdaptiveProgress(
            min: schedule.min, max: schedule.max, step: schedule.step, maxTaskCount: maxTaskCount, datasets: entries)
    }
}
