import Foundation
import Logging
import PostgresNIO
import ReproCore

extension TaskQueue {
    /// Records a batch of results in one transaction whose statements do not grow with the batch: lock
    /// the tasks, read the runs already stored for the leases, decide every result in memory
    /// (``ResultPlan``), then insert runs and metrics, update the tasks and append one closure row per study
    /// that closed tasks in one statement. Near a study's end the closures are folded into the study's row
    /// in the same transaction (``closeTasks(_:on:)``).
    ///
    /// Each result is fenced: it counts only when it comes from the worker holding the task's current
    /// lease (or the latest lease, expired but not yet handed out again). A result already recorded
    /// for the same lease gets the same receipt again, so a worker may resend after a lost answer. The
    /// task rows are locked first, so two copies of one result sent at once are serialized and the
    /// second sees the first.
    ///
    /// Locks are taken in the order every other writer uses (tasks in id order, then studies in id order), so
    /// a batch cannot deadlock with a cancellation or the reaper. Until near its study's end it shares no row
    /// lock with other batches of the same study (decision 0017): the study's count of open tasks is appended
    /// to, and the preprint's score flag is set only when it is clear, under a shared advisory lock that the
    /// score maintainer's claim waits for.
    public func record(results: [TaskResult], worker: UUID) async throws -> [ResultReceipt] {
        guard !results.isEmpty else { return [] }
        let receipts = try await client.withTransaction(logger: logger) { connection -> [ResultReceipt] in
            try await record(results: results, worker: worker, on: connection)
        }
        CoordinatorMetrics.resultsRecorded(receipts)
        log(receipts)
        return receipts
    }

    /// ``record(results:worker:)`` inside its caller's transaction.
    func record(results: [TaskResult], worker: UUID, on connection: PostgresConnection) async throws -> [ResultReceipt] {
        guard !results.isEmpty else { return [] }
        let tasks = try await lockTasks(results.map(\.taskID), on: connection)
        let recorded = try await recordedRuns(results.map(\.leaseID), on: connection)
        let ranges = try await metricRanges(of: Set(tasks.values.map(\.study)), on: connection)
        var plan = ResultPlan(worker: worker, policy: policy, tasks: tasks, recorded: recorded, metricRanges: ranges)
        let receipts = results.map { plan.add($0) }
        try await closeTasks(try await write(plan, on: connection), on: connection)
        try await writeParams(of: results, accepted: Set(plan.runs.filter(\.accepted).map(\.leaseID)), on: connection)
        if plan.requeued {
            try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'retry')", logger: logger)
        }
        return receipts
    }

    func log(_ receipts: [ResultReceipt]) {
        for receipt in receipts {
            logger.debug(
                "result received",
                metadata: [
                    "repro.task.id": "\(receipt.taskID)", "repro.lease.id": "\(receipt.leaseID)",
                    "repro.result.status": "\(receipt.status.rawValue)",
                ])
        }
    }

    /// Locks the batch's task rows in id order (the sort sits below the row locks in the plan) and reads them.
    private func lockTasks(_ ids: [Int64], on connection: PostgresConnection) async throws -> [Int64: ResultPlan.TaskRow] {
        let rows = try await LockTasksStatement(ids: Array(Set(ids)))
            .run(on: connection, prepared: policy.preparedStatements, logger: logger)
        var tasks: [Int64: ResultPlan.TaskRow] = [:]
        for row in rows.rows {
            var cells = RowCells(row)
            tasks[try cells.next(Int64.self)] = ResultPlan.TaskRow(
                state: try cells.next(), lease: try cells.next(), worker: try cells.next(), attempts: try cells.next(),
                maxAttempts: try cells.next(), study: try cells.next())
        }
        return tasks
    }

    /// The declared metric ranges of these studies (`metrics` in the spec). A plain read, no lock, once per
    /// study and coordinator: a study's spec never changes after submission (``MetricRangeCache``).
    private func metricRanges(of studies: Set<UUID>, on connection: PostgresConnection) async throws
        -> [UUID: [String: MetricRange]]
    {
        var (ranges, missing) = metricRangeCache.lookup(studies)
        guard !missing.isEmpty else { return ranges }
        let rows = try await connection.query(
            """
            SELECT id, (spec -> 'metrics')::text FROM studies
            WHERE id = ANY(\(Array(missing))::uuid[]) AND spec ? 'metrics'
            """, logger: logger)
        var read: [UUID: [String: MetricRange]] = [:]
        for try await (study, json) in rows.decode((UUID, String).self) {
            read[study] = try JSONDecoder().decode([String: MetricRange].self, from: Data(json.utf8))
        }
        metricRangeCache.store(read, for: missing)
        ranges.merge(read) { _, new in new }
        return ranges
    }

    /// The runs already stored for these leases (a resent result).
    private func recordedRuns(_ leases: [UUID], on connection: PostgresConnection) async throws -> [UUID: ResultPlan.RecordedRun] {
        let rows = try await RecordedRunsStatement(leases: leases)
            .run(on: connection, prepared: policy.preparedStatements, logger: logger)
        var recorded: [UUID: ResultPlan.RecordedRun] = [:]
        for row in rows.rows {
            var cells = RowCells(row)
            recorded[try cells.next(UUID.self)] = ResultPlan.RecordedRun(accepted: try cells.next(), worker: try cells.next())
        }
        return recorded
    }

    /// Inserts the plan's runs and their metrics, applies its task changes and appends its closures: one
    /// statement. Runs and task changes travel as JSON arrays (nullable columns stay simple), written by
    /// ``ResultPlan/runsJSON()`` and ``ResultPlan/changesJSON()``; metrics and closures as parallel arrays.
    /// Returns what ``closeTasks(_:on:)`` decides on.
    private func write(_ plan: ResultPlan, on connection: PostgresConnection) async throws -> [StudyClosure] {
        guard !plan.runs.isEmpty || !plan.changes.isEmpty else { return [] }
        let closed = plan.closedByStudy.sorted { $0.key.uuidString < $1.key.uuidString }
        let rows = try await WriteResultsStatement(
            runs: plan.runsJSON(), worker: plan.worker, changes: plan.changesJSON(), metricLeases: plan.metricLeases,
            metricNames: plan.metricNames, metricValues: plan.metricValues, closedStudies: closed.map(\.key),
            closedCounts: closed.map { Int32($0.value) }
        ).run(on: connection, prepared: policy.preparedStatements, logger: logger)
        var closures: [StudyClosure] = []
        for row in rows.rows {
            var cells = RowCells(row)
            closures.append(StudyClosure(study: try cells.next(), open: try cells.next(), growing: try cells.next()))
        }
        return closures
    }

    /// A study that closed tasks in a result batch: its open tasks left as the batch's transaction sees them,
    /// and whether it grows (an adaptive study adding seeds).
    struct StudyClosure {
        var study: UUID
        var open: Int
        var growing: Bool
    }

    /// Tasks of these studies reached an end state. They are appended to the study's closures instead of
    /// subtracted from its row (migration 0014, decision 0017), by the result statement itself: every result
    /// of a study used to update that row and hold its lock until the commit was flushed, so a study's results
    /// were recorded one at a time.
    ///
    /// Near the study's end (at most `closureFoldThreshold` open tasks left as this transaction sees them),
    /// or while an adaptive study grows (its maintainer waits for `adaptive_pending`, which the fold sets),
    /// the transaction folds the study's closures itself and so waits for the others that do. The one that
    /// closes the last task commits last among those; what it cannot see then is only what transactions in
    /// flight beside it closed, a few batches, so it completes the study before its answer is sent. When more
    /// than the threshold were closing at once, the reaper's next pass completes it (``foldPendingClosures(on:)``).
    /// In study id order, as the reaper's fold takes them (study_fold_closures).
    func closeTasks(_ closures: [StudyClosure], on connection: PostgresConnection) async throws {
        for closure in closures where closure.open <= policy.closureFoldThreshold || closure.growing {
            try await connection.query("SELECT study_fold_closures(\(closure.study))", logger: logger)
        }
    }

    /// Folds every study's pending closures, in the reaper's pass: the studies whose last results were
    /// recorded while too many others were in flight to fold them at once, whose fold failed, or whose tasks
    /// the reaper failed. Returns how many studies it completed.
    func foldPendingClosures(on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query(
            """
            SELECT count(*) FILTER (WHERE open = 0)
            FROM (SELECT study_fold_closures(study_id) AS open
                  FROM (SELECT DISTINCT study_id FROM study_closures ORDER BY study_id OFFSET 0) s) f
            """, logger: logger)
        for try await completed in rows.decode(Int64.self) { return Int(completed) }
        return 0
    }
}
