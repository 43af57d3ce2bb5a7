import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Checks the replicas of completed studies against each other (``ReliabilityPlan``) and keeps the
/// per-worker counters; reads them for the workers routes.
///
/// When: a study's replicas are judged once it completes (the `studies_reliability_pending` trigger flags it),
/// by a background pass on every coordinator replica, not inside the result transaction: σ_repeat is then
/// estimated from every seed group of the study, and result batches stay as short as before. Each checked run
/// is recorded (`reliability_checks`, keyed by run), so a study completing again after a quarantine requeued
/// some of its tasks checks only the new runs.
///
/// Lock order: the study row (claimed with SKIP LOCKED), then `worker_reliability` rows in worker id order. No
/// task is locked, so it cannot wait in a cycle with a result batch (tasks, then study).
struct ReliabilityRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger

    /// The counters of the workers one pass changed.
    struct Evaluated: Sendable {
        var study: UUID
        var checks: Int
        var counters: [UUID: ReliabilityPlan.Counters]
    }

    /// Evaluates one pending study, if any; nil when none is pending (or all are claimed by other replicas).
    func evaluateNextPending() async throws -> Evaluated? {
        try await client.withTransaction(logger: logger) { connection -> Evaluated? in
            let claimed = try await connection.query(
                "SELECT id FROM studies WHERE reliability_pending ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                logger: logger)
            var study: UUID?
            for try await id in claimed.decode(UUID.self) { study = id }
            guard let study else { return nil }
            let replicas = try await replicas(of: study, on: connection)
            let checkedRows = try await connection.query(
                "SELECT run_id FROM reliability_checks WHERE study_id = \(study)", logger: logger)
            var alreadyChecked = Set<Int64>()
            for try await id in checkedRows.decode(Int64.self) { alreadyChecked.insert(id) }

            let checks = ReliabilityPlan.evaluate(replicas, alreadyChecked: alreadyChecked)
            var counters: [UUID: ReliabilityPlan.Counters] = [:]
            if !checks.isEmpty {
                let current = try await lockCounters(Set(checks.map(\.workerID)), on: connection)
                counters = ReliabilityPlan.counters(after: checks, from: current)
                try await write(checks, counters: counters, study: study, on: connection)
            }
            try await connection.query(
                "UPDATE studies SET reliability_pending = false WHERE id = \(study)", logger: logger)
            return Evaluated(study: study, checks: checks.count, counters: counters)
        }
    }

    /// Accepted runs of the study's replicated seed groups, one replica per run with all its metrics.
    private func replicas(of study: UUID, on connection: PostgresConnection) async throws -> [ReliabilityPlan.Replica] {
        let rows = try await connection.query(
            """
            SELECT r.id, r.worker_id, t.seed_group, t.dataset, t.configuration, m.name, m.value
            FROM runs r JOIN tasks t ON t.id = r.task_id JOIN run_metrics m ON m.run_id = r.id
            WHERE r.study_id = \(study) AND r.accepted AND t.group_size > 1
            """, logger: logger)
        var byRun: [Int64: ReliabilityPlan.Replica] = [:]
        for try await (run, worker, group, dataset, configuration, name, value)
            in rows.decode((Int64, UUID, Int, String, String?, String, Double).self)
        {
            byRun[
                run,
                default: .init(
                    runID: run, workerID: worker, seedGroup: group, dataset: dataset, configuration: configuration,
                    metrics: [:])
            ].metrics[name] = value
        }
        return byRun.values.sorted { $0.runID < $1.runID }
    }

    private func lockCounters(_ workers: Set<UUID>, on connection: PostgresConnection) async throws
        -> [UUID: ReliabilityPlan.Counters]
    {
        let ids = workers.sorted { $0.uuidString < $1.uuidString }
        try await connection.query(
            """
            INSERT INTO worker_reliability (worker_id) SELECT unnest(\(ids)::uuid[]) ORDER BY 1
            ON CONFLICT (worker_id) DO NOTHING
            """, logger: logger)
        let rows = try await connection.query(
            """
            SELECT worker_id, agreeing, disagreeing, consecutive_agreeing FROM worker_reliability
            WHERE worker_id = ANY(\(ids)::uuid[]) ORDER BY worker_id FOR UPDATE
            """, logger: logger)
        var counters: [UUID: ReliabilityPlan.Counters] = [:]
        for try await (worker, agreeing, disagreeing, consecutive) in rows.decode((UUID, Int64, Int64, Int64).self) {
            counters[worker] = .init(agreeing: agreeing, disagreeing: disagreeing, consecutiveAgreeing: consecutive)
        }
        return counters
    }

    private func write(
        _ checks: [ReliabilityPlan.Check], counters: [UUID: ReliabilityPlan.Counters], study: UUID,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            INSERT INTO reliability_checks (run_id, worker_id, study_id, seed_group, agrees, detail)
            SELECT r, w, \(study), g, a, d
            FROM unnest(\(checks.map(\.runID))::bigint[], \(checks.map(\.workerID))::uuid[],
                        \(checks.map { Int32($0.seedGroup) })::int[], \(checks.map(\.agrees))::boolean[],
                        \(checks.map(\.detail))::text[]) AS c(r, w, g, a, d)
            ON CONFLICT (run_id) DO NOTHING
            """, logger: logger)
        let workers = counters.keys.sorted { $0.uuidString < $1.uuidString }
        try await connection.query(
            """
            UPDATE worker_reliability w
            SET agreeing = c.a, disagreeing = c.d, consecutive_agreeing = c.k, last_checked_at = now()
            FROM unnest(\(workers)::uuid[], \(workers.map { counters[$0]!.agreeing })::bigint[],
                        \(workers.map { counters[$0]!.disagreeing })::bigint[],
                        \(workers.map { counters[$0]!.consecutiveAgreeing })::bigint[]) AS c(id, a, d, k)
            WHERE w.worker_id = c.id
            """, logger: logger)
    }

    /// Workers with their counters and quarantine: all of them (`owner` nil), one volunteer's, or one worker.
    func workers(owner: UUID? = nil, worker: UUID? = nil) async throws -> [WorkerReliability] {
        let rows = try await client.query(
            """
            SELECT w.id, w.name, w.owner_account_id, w.last_seen_at,
                   coalesce(r.accepted, 0), coalesce(wr.agreeing, 0), coalesce(wr.disagreeing, 0),
                   coalesce(wr.consecutive_agreeing, 0), coalesce(r.excluded, 0),
                   q.scope, q.id, q.reason, q.created_by, q.created_at
            FROM workers w
            LEFT JOIN worker_reliability wr ON wr.worker_id = w.id
            LEFT JOIN (SELECT worker_id, count(*) FILTER (WHERE accepted) AS accepted,
                              count(*) FILTER (WHERE excluded = 'quarantine') AS excluded
                       FROM runs GROUP BY worker_id) r ON r.worker_id = w.id
            LEFT JOIN LATERAL (
                SELECT CASE WHEN q.worker_id IS NOT NULL THEN 'worker' ELSE 'account' END AS scope,
                       q.id, q.reason, q.created_by, q.created_at
                FROM quarantines q
                WHERE q.released_at IS NULL AND (q.worker_id = w.id OR q.account_id = w.owner_account_id)
                ORDER BY q.id LIMIT 1) q ON true
            WHERE (\(owner)::uuid IS NULL OR w.owner_account_id = \(owner))
              AND (\(worker)::uuid IS NULL OR w.id = \(worker))
            ORDER BY w.registered_at, w.id
            """, logger: logger)
        var workers: [WorkerReliability] = []
        for try await row in rows.decode(
            (UUID, String, UUID, Date, Int64, Int64, Int64, Int64, Int64, String?, Int64?, String?, UUID?, Date?).self)
        {
            var quarantine: QuarantineStatus?
            if let scope = row.9, let id = row.10, let reason = row.11, let at = row.13 {
                quarantine = QuarantineStatus(scope: scope, id: id, reason: reason, createdBy: row.12, createdAt: at)
            }
            workers.append(
                WorkerReliability(
                    workerID: row.0, name: row.1, ownerAccountID: row.2, lastSeenAt: row.3, accepted: Int(row.4),
                    agreeing: Int(row.5), disagreeing: Int(row.6), consecutiveAgreeing: Int(row.7),
                    excludedRuns: Int(row.8), quarantine: quarantine))
        }
        return workers
    }
}
