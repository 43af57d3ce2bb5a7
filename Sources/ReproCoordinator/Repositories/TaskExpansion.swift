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
///
/// An adaptive study numbers its groups over all `max` seeds (S = max) and inserts them in parts: its first
/// `min` seeds at submission (``initial``), then one ``step(datasets:seeds:)`` per look that grows a
/// dataset, each as runs of consecutive groups, the way ``StudySpec/expand(seedIndices:datasets:)`` lists them.
struct TaskExpansion: Sendable {
    let datasets: [String]
    /// Configuration names in name order; `[""]` (one unnamed configuration) when the matrix has none.
    let configurations: [String]
    let seeds: [Int64]
    let replicas: Int
    /// Per seed group, whether it is spot-checked (one more replica, on distinct accounts); empty when
    /// the study has no `verification`.
    let checked: [Bool]
    /// Seeds the study starts with (all of them unless it is adaptive).
    let initialSeeds: Int

    /// Consecutive seed groups to insert: each run starts at a group and spans `length` groups.
    struct Selection: Sendable {
        var starts: [Int32] = []
        var lengths: [Int32] = []
        /// Tasks the runs expand into, spot-checks included.
        var taskCount = 0
    }

    init(spec: StudySpec) {
        let matrix = spec.matrix
        datasets = matrix.datasets
        configurations = matrix.configurations.isEmpty ? [""] : matrix.configurations.map(\.name)
        seeds = matrix.seeds
        replicas = matrix.replicas
        initialSeeds = matrix.initialSeedCount
        let groups = datasets.count * configurations.count * seeds.count
        let spotChecked = spec.spotCheckedGroups(count: groups)
        checked = spotChecked.isEmpty ? [] : (0..<groups).map { spotChecked.contains($0) }
    }

    var groupCount: Int { datasets.count * configurations.count * seeds.count }

    /// Every group of the matrix: the tasks of a study at `max` seeds, for an adaptive one.
    var all: Selection { selection([(0, groupCount)]) }

    /// What the study starts with: the whole matrix in one run, or an adaptive study's first `min` seeds
    /// of every dataset and configuration.
    var initial: Selection {
        initialSeeds == seeds.count ? all : step(datasets: Set(datasets), seeds: 0..<initialSeeds)
    }

    /// The groups of `seeds` (positions in the seed list) on `datasets`, under every configuration.
    func step(datasets names: Set<String>, seeds range: Range<Int>) -> Selection {
        let range = range.clamped(to: 0..<seeds.count)
        var runs: [(start: Int, length: Int)] = []
        for (datasetIndex, dataset) in datasets.enumerated() where names.contains(dataset) && !range.isEmpty {
            for configuration in configurations.indices {
                let base = (datasetIndex * configurations.count + configuration) * seeds.count
                runs.append((base + range.lowerBound, range.count))
            }
        }
        return selection(runs)
    }

    private func selection(_ runs: [(start: Int, length: Int)]) -> Selection {
        var selection = Selection()
        for run in runs {
            selection.starts.append(Int32(run.start))
            selection.lengths.append(Int32(run.length))
            let spotChecked = checked.isEmpty ? 0 : checked[run.start..<run.start + run.length].count { $0 }
            selection.taskCount += run.length * replicas + spotChecked
        }
        return selection
    }

    /// Tasks the database inserts per second of extra deadline a submission gets (decision 0006, "Large
    /// submissions"): a million-task study took 15–23 s on a loaded 2-core machine with durable settings,
    /// past the 10 s default, and was answered 503 with nothing stored. 25 000 per second gives it 40 s more;
    /// a study under 25 000 tasks gets at most a second. The spec's task limit bounds it.
    static let tasksPerExtraSecond = 25_000

    /// The extra deadline for inserting `tasks` tasks.
    static func extraTime(tasks: Int) -> Duration {
        .milliseconds(tasks * 1000 / tasksPerExtraSecond)
    }

    /// Inserts the tasks of `selection` into `study`. The nested loop over set-returning functions emits the
    /// runs in order, each run's groups in order and each group's replicas in order, and identity values are
    /// drawn as rows are inserted, so task ids follow the expansion order without a sort.
    func insert(
        _ selection: Selection, study: UUID, maxAttempts: Int, gpus: Int, memoryBytes: Int64, network: Bool,
        state: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard selection.taskCount > 0 else { return }
        // 32-bit binds: array subscripts must be integers, and a study has at most 2³¹ tasks.
        let perDataset = Int32(configurations.count * seeds.count)
        let seedCount = Int32(seeds.count)
        let configurationCount = Int32(configurations.count)
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
            FROM unnest(\(selection.starts)::int[], \(selection.lengths)::int[]) AS b(start, length)
            CROSS JOIN LATERAL (
                SELECT g, CASE WHEN coalesce((\(checked)::boolean[])[g + 1], false) THEN 1 ELSE 0 END AS extra
                FROM generate_series(b.start, b.start + b.length - 1) AS g) AS g
            CROSS JOIN LATERAL generate_series(0, \(replicas) - 1 + g.extra) AS r(r)
            """, logger: logger)
    }
}
