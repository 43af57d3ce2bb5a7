import Foundation
import Logging
import PostgresNIO
import ReproCoordinator

/// The bare lease statement under `pgbench`, on the same cluster and schema as the HTTP run: the
/// ceiling the coordinator's task rate is compared with.
///
/// The script runs the coordinator's lease statement exactly as `TaskQueue.lease` sends it (values
/// inlined where the coordinator binds them), then inserts as many fresh queued tasks so the queue never
/// drains (see ``script(worker:batch:memoryBytes:gpus:ttlSeconds:study:)``). Each script execution is two
/// commits; pgbench's "tps" counts scripts, i.e. lease statements per second.
struct PgbenchBaseline: Sendable {
    /// What pgbench measured.
    struct Figures: Sendable {
        var clients: Int
        var seconds: Int
        /// Lease statements (script executions) per second, as pgbench prints it.
        var transactionsPerSecond: Double
        var transactions: Int
        /// Tasks actually leased (sum of `attempts` increments) per second of pgbench time.
        var tasksPerSecond: Double
        var averageLatencyMilliseconds: Double?
    }

    let database: DatabaseURL
    let pgbench: String
    let logger: Logger

    /// A copy of the benchmark study with `tasks` queued tasks, so pgbench leases the same rows the
    /// coordinator leased (same job, same task shape) on the same tables and indexes.
    func prepareQueue(copying study: UUID, client: PostgresClient) async throws -> UUID {
        let rows = try await client.query(
            """
            INSERT INTO studies (preprint_id, owner_account_id, spec, spec_sha256, job, task_count, open_tasks, manifest)
            SELECT preprint_id, owner_account_id, spec, spec_sha256, job, task_count, task_count, manifest FROM studies
            WHERE id = \(study)
            RETURNING id
            """, logger: logger)
        var copy: UUID?
        for try await id in rows.decode(UUID.self) { copy = id }
        guard let copy else { throw BenchError("study \(study) is missing; cannot prepare the pgbench queue") }
        try await client.query(
            """
            INSERT INTO tasks (study_id, seed_group, dataset, seed, configuration, replica, arguments, gpus,
                               memory_bytes, max_attempts, group_size)
            SELECT \(copy), seed_group, dataset, seed, configuration, replica, arguments, gpus, memory_bytes, max_attempts,
                   group_size
            FROM tasks WHERE study_id = \(study)
            """, logger: logger)
        let next = try await client.query("SELECT coalesce(max(seed_group), 0) + 1 FROM tasks WHERE study_id = \(copy)", logger: logger)
        var start = 1
        for try await value in next.decode(Int.self) { start = value }
        try await client.query(PostgresQuery(unsafeSQL: "CREATE SEQUENCE repro_bench_seed_group START \(start)"), logger: logger)
        // The HTTP run left 20 000 dead entries at the head of the queued-task index (its tasks, all
        // leased and finished) and statistics autovacuum may not have refreshed yet. pgbench starts from a
        // vacuumed, analysed table: the baseline is the statement at its best, the stricter comparison.
        try await client.query("VACUUM (ANALYZE) tasks", logger: logger)
        return copy
    }

    /// The lease statement of `TaskQueue.lease` with the coordinator's bind values written in.
    static func leaseStatement(worker: UUID, batch: Int, memoryBytes: Int64, gpus: Int, ttlSeconds: Double) -> String {
        """
        WITH candidates AS (
            SELECT t.id
            FROM tasks t
            WHERE t.state = 'queued' AND t.not_before <= now()
              AND t.gpus <= \(gpus) AND (t.memory_bytes <= \(memoryBytes) OR \(memoryBytes) = 0)
              AND (NOT t.network OR false)
              AND (t.group_size = 1
                   OR NOT replica_held_nearby(t.study_id, t.seed_group, t.id, t.distinct_accounts, '\(worker)'::uuid))
              AND (t.group_size = 1 OR NOT lower_replica_queued(t.study_id, t.seed_group, t.id))
            ORDER BY t.id
            LIMIT \(batch)
            FOR UPDATE SKIP LOCKED
        ), leased AS (
            UPDATE tasks t
            SET state = 'leased', lease_id = gen_random_uuid(), worker_id = '\(worker)'::uuid, attempts = t.attempts + 1,
                lease_expires_at = now() + make_interval(secs => \(ttlSeconds)::float8), progress = NULL, updated_at = now()
            WHERE t.id = ANY (ARRAY(SELECT c.id FROM candidates c))
            RETURNING t.id, t.lease_id, t.study_id, t.dataset, t.seed, t.configuration, t.replica, t.attempts,
                      t.arguments, t.lease_expires_at
        ), numbered AS (
            SELECT l.*, row_number() OVER (PARTITION BY l.study_id ORDER BY l.id) = 1 AS first FROM leased l
        )
        SELECT n.id, n.lease_id, n.study_id, n.dataset, n.seed, n.configuration, n.replica, n.attempts,
               n.arguments::text, n.lease_expires_at, CASE WHEN n.first THEN s.job::text END,
               CASE WHEN n.first THEN s.manifest::text END, CASE WHEN n.first THEN s.manifest_signature END,
               CASE WHEN n.first THEN s.signing_key_id END
        FROM numbered n JOIN studies s ON s.id = n.study_id
        ORDER BY n.id
        """
    }

    /// The pgbench script: one lease, then as many fresh queued tasks at the tail of the queue, so it
    /// never drains. Requeueing the leased rows instead was tried and is wrong for a queue: the same
    /// few head rows get a new version per transaction, the partial index `tasks_queued` fills with
    /// dead entries faster than autovacuum clears them, and the lease slows down without bound.
    static func script(
        worker: UUID, batch: Int, memoryBytes: Int64, gpus: Int, ttlSeconds: Double, study: UUID
    ) -> String {
        leaseStatement(worker: worker, batch: batch, memoryBytes: memoryBytes, gpus: gpus, ttlSeconds: ttlSeconds)
            + ";\n"
            + """
            INSERT INTO tasks (study_id, seed_group, dataset, seed, replica, memory_bytes, max_attempts)
            SELECT '\(study)'::uuid, g, 'bench', g, 0, 1073741824, 3
            FROM (SELECT nextval('repro_bench_seed_group')::int AS g FROM generate_series(1, \(batch))) fresh;

            """
    }

    /// Runs pgbench with `clients` connections for `seconds` and reads its figures; tasks leased are
    /// counted from the queue's `attempts` (each lease adds one), not assumed to be full batches.
    func run(
        script: String, study: UUID, clients: Int, seconds: Int, client: PostgresClient
    ) async throws -> Figures {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repro-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let scriptFile = folder.appendingPathComponent("lease.sql")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)

        // -M extended: the coordinator's PostgresNIO queries use the extended protocol with unnamed
        // statements, not server-side prepared ones.
        var arguments = [
            "-n", "-M", "extended", "-c", "\(clients)", "-j", "\(min(2, clients))", "-T", "\(seconds)",
            "-f", scriptFile.path, "-U", database.username,
        ]
        switch database.endpoint {
        case .unixSocket(let directory, let port): arguments += ["-h", directory, "-p", "\(port)"]
        case .tcp(let host, let port): arguments += ["-h", host, "-p", "\(port)"]
        }
        arguments.append(database.database ?? "postgres")
        var environment = ProcessInfo.processInfo.environment
        if let password = database.password { environment["PGPASSWORD"] = password }

        let before = try await leasedSoFar(study: study, client: client)
        let output = try await ChildProcess.run("timeout", arguments: ["\(seconds + 60)", pgbench] + arguments, environment: environment)
        let after = try await leasedSoFar(study: study, client: client)

        guard let tps = Self.number(after: "tps = ", in: output),
            let processed = Self.number(after: "number of transactions actually processed: ", in: output), tps > 0
        else { throw BenchError("could not read pgbench's output:\n\(output)") }
        let elapsed = processed / tps
        return Figures(
            clients: clients, seconds: seconds, transactionsPerSecond: tps, transactions: Int(processed),
            tasksPerSecond: Double(after - before) / elapsed,
            averageLatencyMilliseconds: Self.number(after: "latency average = ", in: output))
    }

    private func leasedSoFar(study: UUID, client: PostgresClient) async throws -> Int64 {
        let rows = try await client.query(
            "SELECT coalesce(sum(attempts), 0)::bigint FROM tasks WHERE study_id = \(study)", logger: logger)
        for try await total in rows.decode(Int64.self) { return total }
        return 0
    }

    /// The number that follows `label` on its line of pgbench's report.
    static func number(after label: String, in output: String) -> Double? {
        for line in output.split(separator: "\n") {
            guard let range = line.range(of: label) else { continue }
            let rest = line[range.upperBound...].prefix { $0.isNumber || $0 == "." }
            return Double(rest)
        }
        return nil
    }
}
