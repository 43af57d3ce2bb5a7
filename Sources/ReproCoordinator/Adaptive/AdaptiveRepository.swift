import Foundation
import Logging
import PostgresNIO
import ReproCore

/// The database side of adaptive studies' looks: claims a study marked for a look, reads what the look needs,
/// lets ``AdaptiveLookPlan`` decide, and writes the looks, the new tasks and the study in one transaction.
struct AdaptiveRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger

    /// What one pass did to one study.
    struct Outcome: Sendable {
        var study: UUID
        var looks: [AdaptiveLookPlan.Look] = []
        /// Tasks added by the steps.
        var tasksAdded = 0
        /// Whether the study completed with this pass (its last dataset stopped and no task is open).
        var completed = false
    }

    /// Takes the looks that are due in one study marked `adaptive_pending`, or returns nil when none is.
    ///
    /// The study row is claimed with `FOR UPDATE SKIP LOCKED` and held to the end, which serializes this pass
    /// with everything else that changes the study: results and the reaper (they lock the task rows they
    /// change, then the study, and wait here; this pass locks no existing task, so no cycle of waits can form),
    /// cancellation (which then sees the steps added, and cancels them with the rest) and another
    /// coordinator's pass (which skips the study). A look is inserted with `ON CONFLICT DO NOTHING` and its
    /// step only if the look was new, so even a pass that ran twice on the same state adds a step once.
    func lookAtNextPending() async throws -> Outcome? {
        try await client.withTransaction(logger: logger) { connection -> Outcome? in
            let claimed = try await connection.query(
                """
                SELECT id, state, spec::text FROM studies
                WHERE adaptive_pending ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var found: (id: UUID, state: String, spec: String)?
            for try await row in claimed.decode((UUID, String, String).self) { found = row }
            guard let found else { return nil }
            var outcome = try await look(
                at: found.id, running: found.state == StudyState.running.rawValue, specJSON: found.spec,
                on: connection)
            outcome.completed = try await finish(outcome, on: connection)
            return outcome
        }
    }

    /// Decides the due looks of a claimed study.
    private func look(at study: UUID, running: Bool, specJSON: String, on connection: PostgresConnection)
        async throws -> Outcome
    {
        let outcome = Outcome(study: study)
        guard running,
            let progress = try await AdaptivePlanStore.decodeProgress(
                try await connection.query(AdaptivePlanStore.progressQuery(study: study), logger: logger))
        else { return outcome }
        let open = try await connection.query(
            """
            SELECT dataset, count(*) FROM tasks
            WHERE study_id = \(study) AND state IN ('held', 'queued', 'leased')
            GROUP BY dataset
            """, logger: logger)
        var openTasks: [String: Int] = [:]
        for try await (dataset, count) in open.decode((String, Int64).self) { openTasks[dataset] = Int(count) }
        let due = AdaptiveLookPlan.due(progress, openTasks: openTasks)
        guard !due.isEmpty else { return outcome }

        // Validated at submission, under that day's limits: read back without limits, like StudyRepository.spec.
        let spec = try StudySpec.parse(
            Data(specJSON.utf8), format: .json, limits: SpecLimits(maxSpecBytes: .max, maxTasks: .max))
        let values = try await ReportRepository.decodeValues(
            try await connection.query(
                ReportRepository.valuesQuery(study: study, datasets: due.map(\.dataset)), logger: logger))
        let plan = AdaptiveLookPlan(
            schedule: progress.schedule, due: due, claims: ReportBuilder.claims(of: spec), values: values)
        return try await write(plan, spec: spec, study: study, on: connection)
    }

    /// Inserts the looks, then the tasks of the steps of the looks that were new: the same rows expansion
    /// would have made for those seeds (every configuration, replica and spot check), queued at once since
    /// the study is running and its manifest signed.
    private func write(_ plan: AdaptiveLookPlan, spec: StudySpec, study: UUID, on connection: PostgresConnection)
        async throws -> Outcome
    {
        let looks = plan.looks
        let inserted = try await connection.query(
            """
            INSERT INTO adaptive_looks (study_id, dataset, seeds, next_seeds, stop_reason)
            SELECT \(study), l.dataset, l.seeds, NULLIF(l.next_seeds, 0), NULLIF(l.stop_reason, '')
            FROM unnest(\(looks.map(\.dataset))::text[], \(looks.map(\.seeds))::int[],
                        \(looks.map { $0.nextSeeds ?? 0 })::int[],
                        \(looks.map { $0.stopReason?.rawValue ?? "" })::text[])
                 AS l(dataset, seeds, next_seeds, stop_reason)
            ON CONFLICT (study_id, dataset, seeds) DO NOTHING
            RETURNING dataset
            """, logger: logger)
        var new: Set<String> = []
        for try await dataset in inserted.decode(String.self) { new.insert(dataset) }
        var outcome = Outcome(study: study, looks: looks.filter { new.contains($0.dataset) })

        let expansion = TaskExpansion(spec: spec)
        var selection = TaskExpansion.Selection()
        for step in plan.steps where new.contains(step.dataset) {
            let part = expansion.step(datasets: [step.dataset], seeds: step.seeds)
            selection.starts += part.starts
            selection.lengths += part.lengths
            selection.taskCount += part.taskCount
        }
        try await expansion.insert(
            selection, study: study, maxAttempts: spec.run.maxAttempts, gpus: spec.run.resources.gpus,
            memoryBytes: spec.run.resources.memoryBytes, network: spec.run.network,
            state: TaskState.queued.rawValue, on: connection, logger: logger)
        outcome.tasksAdded = selection.taskCount
        return outcome
    }

    /// Updates the study: its counts grow by the steps, the stopped datasets stop growing, the mark is cleared,
    /// and a study with nothing open and nothing growing completes. Waiting workers wake for the new tasks
    /// when the transaction commits. Returns whether this completed the study.
    private func finish(_ outcome: Outcome, on connection: PostgresConnection) async throws -> Bool {
        let added = outcome.tasksAdded
        let stopped = outcome.looks.count { $0.nextSeeds == nil }
        let rows = try await connection.query(
            """
            UPDATE studies
            SET task_count = task_count + \(added), open_tasks = open_tasks + \(added),
                adaptive_growing = adaptive_growing - \(stopped), adaptive_pending = false,
                state = CASE WHEN state = 'running' AND open_tasks + \(added) = 0 AND adaptive_growing = \(stopped)
                             THEN 'completed' ELSE state END,
                completed_at = CASE WHEN state = 'running' AND open_tasks + \(added) = 0
                                         AND adaptive_growing = \(stopped) THEN now() ELSE completed_at END
            WHERE id = \(outcome.study)
            RETURNING state
            """, logger: logger)
        var completed = false
        for try await state in rows.decode(String.self) {
            completed = state == StudyState.completed.rawValue && !outcome.looks.isEmpty
        }
        if added > 0 {
            try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'adaptive')", logger: logger)
        }
        return completed
    }
}
