import Foundation
import Logging
import PostgresNIO
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// Results of one study recorded without a row that all of them write (decisions 0017 and 0018, migrations
/// 0014 and 0016): the study's count of open tasks is appended to and folded later, and accepted runs mark
/// their preprint's score stale by appending a row the score maintainer's claim deletes.
@Suite("Results without a shared row lock", .serialized)
struct ResultContentionTests {
    /// The statement every result transaction ran before migration 0014 (TaskQueue.closeTasks).
    static func oldCloseTasks(_ study: UUID) -> PostgresQuery {
        "UPDATE studies SET open_tasks = open_tasks - 1 WHERE id = \(study) AND state = 'running'"
    }

    /// The harness's policy with no result folding: every study is far from its end, even with no open task
    /// left.
    static var farFromTheEnd: LeasePolicy {
        var policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.05, reaperIntervalSeconds: 3600)
        policy.closureFoldThreshold = -1
        return policy
    }

    @Test("a study's result batch is recorded while another batch of the same study is still open")
    func batchesOfOneStudyDoNotWaitForEachOther() async throws {
        try await CoordinatorHarness.run(policy: Self.farFromTheEnd) { harness in
            let created = try await harness.submitStudy(datasets: ["digits"], seeds: 4)
            let queue = harness.services.queue
            let first = try await harness.worker(name: "first")
            let second = try await harness.worker(name: "second")
            let firstLeases = try await queue.lease(worker: first.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0)
            let secondLeases = try await queue.lease(worker: second.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0)
            #expect(firstLeases.count == 2 && secondLeases.count == 2)
            // The preprint's row stays locked throughout, as a claim clearing its flag or a study of it
            // completing would lock it: result transactions do not write it.
            let pin = try await RowLock.preprint(harness, study: created.id)

            // The first batch records its results and stays open, as a transaction waiting for its fsync does.
            let recorded = Gate()
            let mayCommit = Gate()
            let open = Task {
                try await harness.database.client.withConnection { connection in
                    try await connection.query("BEGIN", logger: harness.database.logger)
                    _ = try await queue.record(
                        results: firstLeases.map { LeaseLifecycleTests.result($0) }, worker: first.workerID,
                        on: connection)
                    recorded.open()
                    await mayCommit.wait()
                    try await connection.query("COMMIT", logger: harness.database.logger)
                }
            }
            await recorded.wait()

            // The second batch of the same study is recorded meanwhile: it shares no row lock with the first.
            let receipts = try await Deadline(.seconds(20)).run { _ in
                try await queue.record(
                    results: secondLeases.map { LeaseLifecycleTests.result($0) }, worker: second.workerID)
            }
            #expect(receipts.map(\.status) == [.accepted, .accepted])
            mayCommit.open()
            try await open.value
            try await pin.release()

            // Neither folded (far from the end): the reaper's pass completes the study.
            #expect(try await Self.studyState(harness, created.id) == "running")
            #expect(try await queue.reapExpiredLeases(tick: 1).completed == 1)
            #expect(try await Self.studyState(harness, created.id) == "completed")
            #expect(try await Self.count(harness, "SELECT count(*) FROM study_closures") == 0)
        }
    }

    @Test("with the statement result transactions ran before, a second batch of the study waits for the first")
    func theOldStatementSerializedBatches() async throws {
        try await CoordinatorHarness.run { harness in
            let created = try await harness.submitStudy(datasets: ["digits"], seeds: 2)
            // The boundary off: each transaction updates the study's row, as closeTasks did. The second
            // cannot finish while the first is open.
            let recorded = Gate()
            let mayCommit = Gate()
            let open = Task {
                try await harness.database.client.withConnection { connection in
                    try await connection.query("BEGIN", logger: harness.database.logger)
                    try await connection.query(Self.oldCloseTasks(created.id), logger: harness.database.logger)
                    recorded.open()
                    await mayCommit.wait()
                    try await connection.query("ROLLBACK", logger: harness.database.logger)
                }
            }
            await recorded.wait()
            let waited = await #expect(throws: DeadlineExceeded.self) {
                try await Deadline(.seconds(2)).run { _ in
                    try await harness.services.database.withTransaction(logger: harness.database.logger) { connection in
                        try await connection.query(Self.oldCloseTasks(created.id), logger: harness.database.logger)
                    }
                }
            }
            #expect(waited != nil)
            mayCommit.open()
            try await open.value
        }
    }

    @Test("a study whose last closures no result folded completes in the reaper's next pass; near its end, at once")
    func theReaperFoldsWhatWasLeft() async throws {
        try await CoordinatorHarness.run(policy: Self.farFromTheEnd) { harness in
            let created = try await harness.submitStudy(datasets: ["digits"], seeds: 2)
            let queue = harness.services.queue
            let worker = try await harness.worker(name: "far-from-the-end")
            let leases = try await queue.lease(worker: worker.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0)
            let receipts = try await queue.record(results: leases.map { LeaseLifecycleTests.result($0) }, worker: worker.workerID)
            #expect(receipts.map(\.status) == [.accepted, .accepted])
            // Every task ended, and the study's row was not touched: its closures wait for a fold.
            #expect(try await Self.studyState(harness, created.id) == "running")
            #expect(try await Self.count(harness, "SELECT count(*) FROM tasks WHERE state = 'succeeded'") == 2)
            #expect(try await Self.count(harness, "SELECT sum(closed) FROM study_closures") == 2)

            let outcome = try await queue.reapExpiredLeases(tick: 1)
            #expect(outcome.completed == 1)
            #expect(try await Self.studyState(harness, created.id) == "completed")
            #expect(try await Self.count(harness, "SELECT open_tasks FROM studies WHERE id = '\(created.id)'") == 0)
            #expect(try await Self.count(harness, "SELECT count(*) FROM study_closures") == 0)
            // A second pass finds nothing left to fold.
            #expect(try await queue.reapExpiredLeases(tick: 1).completed == 0)
        }
        // With the default threshold, the result that closes the last task completes the study itself.
        try await CoordinatorHarness.run { harness in
            let created = try await harness.submitStudy(datasets: ["digits"], seeds: 2)
            let worker = try await harness.worker(name: "near-the-end")
            let leases = try await harness.services.queue.lease(worker: worker.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0)
            _ = try await harness.services.queue.record(results: leases.map { LeaseLifecycleTests.result($0) }, worker: worker.workerID)
            #expect(try await Self.studyState(harness, created.id) == "completed")
            #expect(try await Self.count(harness, "SELECT count(*) FROM study_closures") == 0)
        }
    }

    @Test("with migration 0014's flag, a result batch waits for the preprint's row; with marks it does not")
    func theFlagMadeResultsWaitForThePreprintRow() async throws {
        try await CoordinatorHarness.run(policy: Self.farFromTheEnd) { harness in
            let created = try await harness.submitStudy(datasets: ["digits"], seeds: 4)
            let queue = harness.services.queue
            let worker = try await harness.worker(name: "flagged")
            let leases = try await queue.lease(worker: worker.workerID, max: 4, memoryBytes: 8 << 30, gpus: 0)
            #expect(leases.count == 4)
            // The boundary off: the trigger as migration 0014 left it (the flag, written when clear), minus its
            // advisory lock. With the preprint's row locked and the flag clear, the batch cannot finish.
            try await harness.database.client.query(PostgresQuery(unsafeSQL: Self.flagTrigger), logger: harness.database.logger)
            try await harness.database.client.query(
                "UPDATE preprints SET score_dirty = false WHERE id = (SELECT preprint_id FROM studies WHERE id = \(created.id))",
                logger: harness.database.logger)
            let pin = try await RowLock.preprint(harness, study: created.id)
            let waited = await #expect(throws: DeadlineExceeded.self) {
                try await Deadline(.seconds(2)).run { _ in
                    try await queue.record(results: leases.prefix(2).map { LeaseLifecycleTests.result($0) }, worker: worker.workerID)
                }
            }
            #expect(waited != nil)
            try await pin.release()

            // The boundary on: migration 0016's trigger appends a mark; the same batch is recorded while the row
            // is locked again.
            try await harness.database.client.query(PostgresQuery(unsafeSQL: Self.markTrigger), logger: harness.database.logger)
            let again = try await RowLock.preprint(harness, study: created.id)
            let receipts = try await Deadline(.seconds(20)).run { _ in
                try await queue.record(results: leases.suffix(2).map { LeaseLifecycleTests.result($0) }, worker: worker.workerID)
            }
            #expect(receipts.map(\.status) == [.accepted, .accepted])
            try await again.release()
            #expect(try await Self.count(harness, "SELECT count(*) FROM score_marks") >= 1)
        }
    }

    @Test("a run committed after the score claim stays marked for the next claim, and the claim waits for nothing")
    func marksCommittedAfterTheClaimStay() async throws {
        try await withTestDatabase { db in
            _ = try await MigrationRunner(directory: CoordinatorHarness.migrationsDirectory, logger: db.logger)
                .apply(using: db.client)
            let seeded = try await Seeded.insert(into: db)
            let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("marks-\(UUID().uuidString).key")
            defer { try? FileManager.default.removeItem(at: keyFile) }
            let database = DatabaseClient(db.client, deadline: .seconds(60), logger: db.logger)
            let scores = ScoreRepository(
                client: database,
                studies: StudyRepository(client: database, signer: SigningKeyStore(keyFile: keyFile), logger: db.logger),
                logger: db.logger)

            // The boundary off: a flag written only when it is clear, with a claim that does not wait (migration
            // 0014's trigger without its advisory lock). The result transaction saw the flag set and did not
            // write it; the claim clears it while that transaction is open; the recomputation's snapshot misses
            // the run, and nothing marks the score stale again.
            try await db.client.query(PostgresQuery(unsafeSQL: Self.flagTrigger), logger: db.logger)
            try await seeded.markDirty(db)
            let unfenced = try await seeded.openResult(db, run: 1)
            let claimedEarly = try await Self.strings(
                db,
                """
                UPDATE preprints SET score_dirty = false
                WHERE id IN (SELECT id FROM preprints WHERE score_dirty FOR UPDATE SKIP LOCKED) RETURNING id
                """)
            #expect(claimedEarly == [seeded.preprint])
            #expect(try await seeded.acceptedRuns(db) == 0)
            try await unfenced.commit()
            #expect(try await seeded.acceptedRuns(db) == 1)
            #expect(try await seeded.isStale(db) == false)

            // The boundary on: the mark is a row of the result transaction, visible exactly when its run is.
            try await db.client.query(PostgresQuery(unsafeSQL: Self.markTrigger), logger: db.logger)
            try await seeded.markDirty(db)
            let open = try await seeded.openResult(db, run: 2, beforeCommit: seeded.markDirtyStatement)
            // The claim does not wait for the open transaction; it takes the flag it can see.
            let claimed = try await Deadline(.seconds(5)).run { _ in try await scores.claimDirty(limit: 10) }
            #expect(claimed == [seeded.preprint])
            #expect(try await seeded.acceptedRuns(db) == 1)
            #expect(try await seeded.isStale(db) == false)
            // The transaction commits after the claim: its run is marked for the next one.
            try await open.commit()
            #expect(try await seeded.isStale(db) == true)
            #expect(try await scores.claimDirty(limit: 10) == [seeded.preprint])
            #expect(try await seeded.acceptedRuns(db) == 2)
            #expect(try await seeded.isStale(db) == false)
            #expect(try await scores.claimDirty(limit: 10) == [])
        }
    }

    /// `runs_inserted_mark_score_dirty` as migration 0014 left it, without the advisory lock.
    static let flagTrigger = """
        CREATE OR REPLACE FUNCTION runs_inserted_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE preprints SET score_dirty = true
            WHERE NOT score_dirty
              AND id IN (SELECT s.preprint_id FROM inserted i JOIN studies s ON s.id = i.study_id WHERE i.accepted);
            RETURN NULL;
        END $$
        """

    /// `runs_inserted_mark_score_dirty` as migration 0016 defines it.
    static let markTrigger = """
        CREATE OR REPLACE FUNCTION runs_inserted_mark_score_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO score_marks (preprint_id)
            SELECT DISTINCT s.preprint_id FROM inserted i JOIN studies s ON s.id = i.study_id WHERE i.accepted;
            RETURN NULL;
        END $$
        """

    // MARK: - Helpers

    static func studyState(_ harness: CoordinatorHarness, _ study: UUID) async throws -> String? {
        let rows = try await harness.database.client.query("SELECT state FROM studies WHERE id = \(study)")
        for try await state in rows.decode(String.self) { return state }
        return nil
    }

    static func count(_ harness: CoordinatorHarness, _ sql: String) async throws -> Int64 {
        try await count(harness.database.client, harness.database.logger, sql)
    }

    static func count(_ client: PostgresClient, _ logger: Logger, _ sql: String) async throws -> Int64 {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await value in rows.decode(Int64.self) { return value }
        return -1
    }

    static func strings(_ db: TestDatabase, _ sql: String) async throws -> [String] {
        let rows = try await db.client.query(PostgresQuery(unsafeSQL: sql), logger: db.logger)
        var values: [String] = []
        for try await value in rows.decode(String.self) { values.append(value) }
        return values
    }
}

extension RowLock {
    /// Holds a lock on a study's preprint row (FOR UPDATE), as a transaction clearing or setting its score
    /// flag would.
    static func preprint(_ harness: CoordinatorHarness, study: UUID) async throws -> RowLock {
        try await hold(
            harness,
            "SELECT 1 FROM preprints WHERE id = (SELECT preprint_id FROM studies WHERE id = \(study)) FOR UPDATE")
    }
}

/// One preprint, study, worker and task written straight into a migrated database, and accepted runs
/// inserted in transactions the test holds open, the way a result batch inserts them.
struct Seeded {
    let preprint: String
    let study: UUID
    let worker: UUID
    /// One task per run the test inserts: a task has at most one accepted run.
    let tasks: [Int64]

    static func insert(into db: TestDatabase) async throws -> Seeded {
        let account = UUID()
        let study = UUID()
        let worker = UUID()
        let preprint = "10.5555/contention.\(UUID().uuidString.prefix(8))"
        try await db.client.query(
            "INSERT INTO accounts (id, name, roles) VALUES (\(account), 'seeded', '{researcher,worker}')", logger: db.logger)
        try await db.client.query("INSERT INTO preprints (id, title) VALUES (\(preprint), 'Seeded')", logger: db.logger)
        try await db.client.query(
            """
            INSERT INTO studies (id, preprint_id, owner_account_id, spec, spec_sha256, job, task_count, open_tasks)
            VALUES (\(study), \(preprint), \(account), '{}', 'seeded', '{}', 3, 3)
            """, logger: db.logger)
        try await db.client.query(
            """
            INSERT INTO workers (id, account_id, owner_account_id, name, slots, cpus, memory_bytes, gpus)
            VALUES (\(worker), \(account), \(account), 'seeded', 1, 1, 0, 0)
            """, logger: db.logger)
        let rows = try await db.client.query(
            """
            INSERT INTO tasks (study_id, seed_group, dataset, seed, replica, max_attempts)
            SELECT \(study), g, 'digits', g, 0, 3 FROM generate_series(0, 2) g ORDER BY g RETURNING id
            """, logger: db.logger)
        var tasks: [Int64] = []
        for try await id in rows.decode(Int64.self) { tasks.append(id) }
        return Seeded(preprint: preprint, study: study, worker: worker, tasks: tasks)
    }

    func markDirty(_ db: TestDatabase) async throws {
        try await db.client.query(markDirtyStatement, logger: db.logger)
    }

    /// What `preprint_mark_score_dirty` runs when a study of the preprint changes state.
    var markDirtyStatement: PostgresQuery { "UPDATE preprints SET score_dirty = true WHERE id = \(preprint)" }

    /// Whether the preprint's score waits for a recomputation: its flag, or a mark of a new run.
    func isStale(_ db: TestDatabase) async throws -> Bool {
        let rows = try await db.client.query(
            "SELECT EXISTS (SELECT FROM stale_scores WHERE preprint_id = \(preprint))", logger: db.logger)
        for try await value in rows.decode(Bool.self) { return value }
        return false
    }

    func acceptedRuns(_ db: TestDatabase) async throws -> Int64 {
        let rows = try await db.client.query(
            "SELECT count(*) FROM runs WHERE study_id = \(study) AND accepted", logger: db.logger)
        for try await value in rows.decode(Int64.self) { return value }
        return -1
    }

    /// Inserts the accepted run of task `run` (1-based) in a transaction left open until `commit()`, which
    /// runs `beforeCommit` in it first.
    func openResult(_ db: TestDatabase, run: Int, beforeCommit: PostgresQuery? = nil) async throws -> OpenTransaction {
        let inserted = Gate()
        let mayCommit = Gate()
        let task = Task {
            try await db.client.withConnection { connection in
                try await connection.query("BEGIN", logger: db.logger)
                try await connection.query(
                    """
                    INSERT INTO runs (task_id, study_id, lease_id, worker_id, attempt, outcome, accepted, duration_seconds)
                    VALUES (\(tasks[run - 1]), \(study), \(UUID()), \(worker), 1, 'succeeded', true, 1)
                    """, logger: db.logger)
                inserted.open()
                await mayCommit.wait()
                if let beforeCommit { try await connection.query(beforeCommit, logger: db.logger) }
                try await connection.query("COMMIT", logger: db.logger)
            }
        }
        await inserted.wait()
        return OpenTransaction(commit: {
            mayCommit.open()
            try await task.value
        })
    }
}

struct OpenTransaction {
    let commit: @Sendable () async throws -> Void
}
