import Foundation
import Logging
import PostgresNIO
import ReproCore

/// A study's matrix expanded into task rows by the database: one `INSERT … SELECT` over
/// `generate_series` of the seed groups, so the coordinator sends the matrix's axes (datasets, seeds,
/// configuration names) and never builds a row per task (issue 16: a million-task study used to take
/// 26 s and 600 MB of coordinator memory).
///
/// It gives the same tasks, ids in the same order, as ``StudySpec/expand()``, which stays the reference
/// (a test compares the two): seed group `g` is dataset `g / (C·S)`, configuration `(g / S) mod C`, seed
/// `g mod S`, and its replicas follow it. Tasks store no command: the lease rebuilds it from the study's
/// manifest (migration 0011), so a task row's size does not depend on the command's length.
struct TaskExpansion: Sendable {
    let datasets: [String]
    /// Configuration names in name order; `[""]` (one unnamed configuration) when the matrix has none.
    let configurations: [String]
    let seeds: [Int64]
    let replicas: Int
    /// Per seed group, whether it is spot-checked (one more replica, on distinct accounts); empty when
    /// the study has no `verification`.
    let checked: [Bool]
    let taskCount: Int

    init(spec: StudySpec) {
        let matrix = spec.matrix
        datasets = matrix.datasets
        configurations = matrix.configurations.isEmpty ? [""] : matrix.configurations.map(\.name)
        seeds = matrix.seeds
        replicas = matrix.replicas
        let groups = datasets.count * configurations.count * seeds.count
        let spotChecked = spec.spotCheckedGroups(count: groups)
        checked = spotChecked.isEmpty ? [] : (0..<groups).map { spotChecked.contains($0) }
        taskCount = groups * replicas + spotChecked.count
    }

    var groupCount: Int { datasets.count * configurations.count * seeds.count }

    /// Inserts the tasks of `study`. The nested loop over two set-returning functions emits groups in
    /// order and each group's replicas in order, and identity values are drawn as rows are inserted, so
    /// task ids follow the expansion order without a sort.
    func insert(
        study: UUID, maxAttempts: Int, gpus: Int, memoryBytes: Int64, network: Bool, state: String,
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        // 32-bit binds: array subscripts must be integers, and a study has at most 2³¹ tasks.
        let perDataset = Int32(configurations.count * seeds.count)
        let seedCount = Int32(seeds.count)
        let configurationCount = Int32(configurations.count)
        let groupCount = Int32(self.groupCount)
        let replicas = Int32(self.replicas)
        try await connection.query(
            """
            INSERT INTO tasks (study_id, seed_group, dataset, seed, configuration, replica, max_attempts, gpus,
                               memory_bytes, group_size, network, state, distinct_accounts)
            SELECT \(study), g.g, (\(datasets)::text[])[g.g / \(perDataset) + 1],
                   (\(seeds)::bigint[])[g.g % \(seedCount) + 1],
                   NULLIF((\(configurations)::text[])[(g.g / \(seedCount)) % \(configurationCount) + 1], ''),
                   r.r, \(maxAttempts), \(gpus), \(memoryBytes), \(replicas) + g.extra, \(network), \(state),
                   g.extra = 1
            FROM (SELECT g, CASE WHEN coalesce((\(checked)::boolean[])[g + 1], false) THEN 1 ELSE 0 END AS extra
                  FROM generate_series(0, \(groupCount) - 1) AS g) AS g
            CROSS JOIN LATERAL generate_series(0, \(replicas) - 1 + g.extra) AS r(r)
            """, logger: logger)
    }
}
