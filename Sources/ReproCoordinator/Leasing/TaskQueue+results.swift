import Foundation
import Logging
import PostgresNIO
import ReproCore

extension TaskQueue {
    /// Records a batch of results in one transaction.
    ///
    /// Each result is fenced: it counts only when it comes from the worker holding the task's current
    /// lease (or the latest lease, expired but not yet handed out again). A result already recorded
    /// for the same lease gets the same receipt again, so a worker may resend after a lost answer. The
    /// task row is locked first, so two copies of one result sent at once are serialized and the
    /// second sees the first.
    public func record(results: [TaskResult], worker: UUID) async throws -> [ResultReceipt] {
        let receipts = try await client.withTransaction(logger: logger) {
            connection -> [ResultReceipt] in
            var requeued = false
            var closed: [UUID: Int] = [:]
            // Lock task rows in id order so two batches touching the same tasks cannot deadlock.
            let order = results.indices.sorted { results[$0].taskID < results[$1].taskID }
            var byIndex: [Int: ResultReceipt] = [:]
            for index in order {
                let (receipt, study) = try await record(results[index], worker: worker, on: connection)
                if receipt.taskState == .queued && receipt.status == .recorded { requeued = true }
                if let study { closed[study, default: 0] += 1 }
                byIndex[index] = receipt
            }
            let receipts = results.indices.map { byIndex[$0]! }
            // The study row is updated last, once per study: every result of a study takes its row lock,
            // so holding it for the whole batch would serialize all result transactions of the study.
            for (study, count) in closed.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                try await closeTasks(study: study, count: count, on: connection)
            }
            if requeued {
                try await connection.query("SELECT pg_notify(\(TaskWakeup.channel), 'retry')", logger: logger)
            }
            return receipts
        }
        for receipt in receipts {
            logger.debug(
                "result received",
                metadata: [
                    "repro.task.id": "\(receipt.taskID)", "repro.lease.id": "\(receipt.leaseID)",
                    "repro.result.status": "\(receipt.status.rawValue)",
                ])
        }
        return receipts
    }

    /// Records one result; returns its receipt and, when the task reached an end state, its study.
    private func record(_ result: TaskResult, worker: UUID, on connection: PostgresConnection) async throws
        -> (ResultReceipt, UUID?)
    {
        let taskID = result.taskID
        let leaseID = result.leaseID
        func receipt(_ status: ResultReceipt.Status, _ state: TaskState?, _ detail: String?) -> ResultReceipt {
            ResultReceipt(taskID: taskID, leaseID: leaseID, status: status, taskState: state, detail: detail)
        }

        let taskRows = try await connection.query(
            """
            SELECT state, lease_id, worker_id, attempts, max_attempts, study_id
            FROM tasks WHERE id = \(taskID) FOR UPDATE
            """, logger: logger)
        var task: (state: String, lease: UUID?, worker: UUID?, attempts: Int, maxAttempts: Int, study: UUID)?
        for try await row in taskRows.decode((String, UUID?, UUID?, Int, Int, UUID).self) {
            task = (row.0, row.1, row.2, row.3, row.4, row.5)
        }
        guard let task else { return (receipt(.rejected, nil, "no such task"), nil) }
        let currentState = TaskState(rawValue: task.state)

        // A result already recorded for this lease: answer as the first time.
        let previous = try await connection.query(
            "SELECT accepted, worker_id FROM runs WHERE lease_id = \(leaseID)", logger: logger)
        for try await (accepted, owner) in previous.decode((Bool, UUID).self) {
            guard owner == worker else { return (receipt(.rejected, nil, "this lease belongs to another worker"), nil) }
            return (receipt(accepted ? .accepted : .recorded, currentState, "already received"), nil)
        }

        guard task.lease == leaseID, task.worker == worker else {
            return (receipt(.rejected, currentState, "the lease was lost: the task was leased again after it expired"), nil)
        }
        switch currentState {
        case .leased, .queued: break
        case .cancelled: return (receipt(.rejected, currentState, "the study was cancelled"), nil)
        case .succeeded: return (receipt(.rejected, currentState, "the task already has an accepted result"), nil)
        case .failed: return (receipt(.rejected, currentState, "the task had already failed for good"), nil)
        case nil: return (receipt(.rejected, nil, "the task is in an unknown state"), nil)
        }

        let succeeded = result.outcome == .succeeded
        let logTail = result.logTail.map { String($0.suffix(64 * 1024)) }
        let error = result.error.map { String($0.prefix(4096)) }
        let fingerprint = try result.fingerprint.map { String(decoding: try WireCoding.encoder().encode($0), as: UTF8.self) }
        let outcome = result.outcome.rawValue
        let attempt = task.attempts
        let runRows = try await connection.query(
            """
            INSERT INTO runs (task_id, study_id, lease_id, worker_id, attempt, outcome, accepted, exit_code,
                              duration_seconds, error, log_tail, fingerprint, hardware_class)
            VALUES (\(taskID), \(task.study), \(leaseID), \(worker), \(attempt), \(outcome), \(succeeded),
                    \(result.exitCode), \(result.durationSeconds), \(error), \(logTail), \(fingerprint)::jsonb,
                    \(result.hardwareClass))
            RETURNING id
            """, logger: logger)
        var runID: Int64 = 0
        for try await id in runRows.decode(Int64.self) { runID = id }

        if succeeded {
            let names = result.metrics.keys.sorted()
            let values = names.map { result.metrics[$0]! }
            try await connection.query(
                """
                INSERT INTO run_metrics (run_id, name, value)
                SELECT \(runID), n, v FROM unnest(\(names)::text[], \(values)::float8[]) AS m(n, v)
                """, logger: logger)
            try await connection.query(
                """
                UPDATE tasks SET state = 'succeeded', progress = NULL, lease_expires_at = NULL, updated_at = now()
                WHERE id = \(taskID)
                """, logger: logger)
            return (receipt(.accepted, .succeeded, nil), task.study)
        }

        let reason = error ?? "attempt ended as \(outcome)"
        // An interrupted job (the worker was shut down) is not the task's fault: give the attempt back.
        let attemptsAfter = result.outcome == .interrupted ? task.attempts - 1 : task.attempts
        if attemptsAfter >= task.maxAttempts {
            try await connection.query(
                """
                UPDATE tasks SET state = 'failed', last_error = \(reason), progress = NULL, lease_expires_at = NULL,
                    updated_at = now()
                WHERE id = \(taskID)
                """, logger: logger)
            return (receipt(.recorded, .failed, "attempt \(task.attempts) of \(task.maxAttempts) failed; no attempt left"), task.study)
        }
        let delay = result.outcome == .interrupted ? 0 : policy.backoff(afterAttempts: task.attempts)
        try await connection.query(
            """
            UPDATE tasks SET state = 'queued', attempts = \(attemptsAfter), last_error = \(reason), progress = NULL,
                lease_expires_at = NULL, not_before = now() + make_interval(secs => \(delay)), updated_at = now()
            WHERE id = \(taskID)
            """, logger: logger)
        return (receipt(.recorded, .queued, String(format: "will be retried in %.1f s", delay)), nil)
    }

    /// `count` tasks of the study reached an end state; the statement that closes its last open task
    /// also completes the study (the row lock makes that happen exactly once).
    func closeTasks(study: UUID, count: Int, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE studies
            SET open_tasks = open_tasks - \(count),
                state = CASE WHEN open_tasks = \(count) THEN 'completed' ELSE state END,
                completed_at = CASE WHEN open_tasks = \(count) THEN now() ELSE completed_at END
            WHERE id = \(study) AND state = 'running' AND open_tasks >= \(count)
            """, logger: logger)
    }
}
