import Foundation
import Logging
import PostgresNIO
import ReproClient
import ReproCoordinator
import ReproCore
import ReproTestSupport
import Synchronization
import Testing

/// A PostgreSQL crash under load (issue 10, part 1): PostgreSQL is restarted with `pg_ctl restart -m
/// immediate` while 16 result batches are in flight, three times in a row, under a real coordinator
/// process. Every request must end, 200 or 503 with `Retry-After`, within the coordinator's database
/// deadline (plus a margin for this loaded machine); the score maintainer must catch up by itself;
/// and SIGTERM must stop the coordinator within its grace period while the database is down.
@Suite("Database crash", .serialized)
struct DatabaseCrashTests {
    static let workers = 16
    static let batch = 25
    static let rounds = 3
    static let preprint = "arXiv:2404.00001"
    /// `--database-deadline` of the coordinator under test, in seconds.
    static let databaseDeadline = 5
    /// `--shutdown-grace` of the coordinator under test, in seconds.
    static let shutdownGrace = 10
    /// Slack for a 2-core machine that other engineers' builds load: process scheduling, not the
    /// coordinator, can add seconds here (10.8 s was seen at load average 33 with a 5 s margin). A
    /// hang still shows: the client waits 60 s.
    static let margin = 10
    /// What a request may take at most: the deadline plus the margin.
    static var requestBound: Double { Double(databaseDeadline + margin) }

    @Test(
        "restart PostgreSQL immediately under 16 in-flight result batches, three times: no request hangs, the score catches up, SIGTERM stops the coordinator",
        .timeLimit(.minutes(10)))
    func immediateRestartsUnderLoad() async throws {
        try await Cluster.withDedicatedPostgres("crash") { cluster, postgres, root in
            try await crashes(cluster, postgres: postgres, root: root)
        }
    }

    func crashes(_ cluster: Cluster, postgres: EmbeddedPostgres, root: URL) async throws {
        let coordinator = try await cluster.startCoordinator(
            leaseTTL: 300, reaperInterval: 1,
            extra: ["--database-deadline", "\(Self.databaseDeadline)", "--shutdown-grace", "\(Self.shutdownGrace)"])
        try await cluster.createKeys()
        let study = try Self.writeStudy(in: root, tasks: Self.workers * Self.batch * Self.rounds)
        _ = try await cluster.cli(["submit", study.path])

        let volunteer = CoordinatorClient(baseURL: coordinator, key: cluster.volunteerKey)
        var tokens: [String] = []
        for index in 0..<Self.workers {
            let registered = try await volunteer.registerWorker(
                WorkerRegistration(
                    name: "fake-\(index)", slots: Self.batch, cpus: 1, memoryBytes: 8 << 30, gpus: 0,
                    hardwareClass: "fake"))
            tokens.append(registered.token)
        }

        var lastBatches: [[TaskResult]] = []
        for round in 1...Self.rounds {
            let calls = CallLog()
            let leases = try await Self.leaseBatches(coordinator, tokens: tokens, calls: calls)
            print("database crash round \(round): leased \(leases.map(\.count))")
            let batches = leases.map { $0.map(Self.result) }
            lastBatches = batches
            // The crash goes out together with the batches: spawning pg_ctl takes longer than the
            // requests take to reach their transactions, so they are inside them when the server dies.
            let restart = Task { try await Self.restartImmediately(postgres) }
            await withTaskGroup(of: Void.self) { group in
                for (token, results) in zip(tokens, batches) {
                    group.addTask { await Self.deliver(results, coordinator, token: token, calls: calls) }
                }
            }
            try await restart.value
            let all = calls.all
            let unavailable = all.filter { $0.status == 503 }
            print(
                "database crash round \(round): \(all.count) requests, \(unavailable.count) answered 503, slowest "
                    + String(format: "%.2f s", all.map(\.seconds).max() ?? 0) + "; over 2 s: "
                    + "\(all.filter { $0.seconds > 2 })")
            Self.expectBounded(all, round: round)
        }

        // Every task has its accepted run, and the stored score counts every one of them.
        let total = Self.workers * Self.batch * Self.rounds
        let configuration = try #require(await postgres.databaseURL).configuration()
        let caughtUp = try await withPostgresClient(configuration) { client in
            let accepted = try await Self.count(client, "SELECT count(*) FROM runs WHERE accepted")
            #expect(accepted == total, "one accepted run per task")
            if accepted != total { try await Self.printTasks(client) }
            // The maintainer recomputes within a second of a change when it is healthy; a stuck one
            // never does, so a minute separates the two on any machine.
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if try await Self.storedScoreRuns(client) == total { return true }
                try await Task.sleep(for: .milliseconds(250))
            }
            return false
        }
        #expect(caughtUp, "the stored score counts all \(total) accepted runs and is not marked stale")

        // SIGTERM while the database is down, 16 batches (resent: the same answers again) are in
        // flight and a worker waits on a long-poll (nothing is left to lease).
        let poller = tokens[0]
        let waiting = Task {
            await TimedCall.post(
                coordinator, "/v1/leases", token: poller, json: LeaseRequest(max: 1, wait: 25), timeout: .seconds(60))
        }
        try await Task.sleep(for: .milliseconds(500))
        let calls = CallLog()
        let inFlight = Task {
            await withTaskGroup(of: Void.self) { group in
                for (token, results) in zip(tokens, lastBatches) {
                    group.addTask {
                        calls.append(
                            await TimedCall.post(
                                coordinator, "/v1/results", token: token, json: ResultBatch(results: results),
                                timeout: .seconds(60)))
                    }
                }
            }
        }
        try await postgres.stop(mode: .immediate)
        try await Task.sleep(for: .milliseconds(200))
        let process = try #require(cluster.coordinators.last)
        let signalled = ContinuousClock.now
        process.terminate()
        let exited = await process.waitForExit(timeout: .seconds(60))
        let took = ContinuousClock.now - signalled
        await inFlight.value
        let longPoll = await waiting.value
        print(
            "database crash: SIGTERM with the database down stopped the coordinator in \(took); long-poll: "
                + "\(longPoll); in flight: \(calls.all)")
        // The long-poll ends on SIGTERM, not when its 25 s wait runs out; empty, as nothing was queued.
        #expect(longPoll.status == 200 && longPoll.seconds < 20, "\(longPoll)")
        #expect(exited, "the coordinator is still running a minute after SIGTERM")
        #expect(
            took < .seconds(Self.shutdownGrace + Self.margin),
            "SIGTERM took \(took), the grace period is \(Self.shutdownGrace) s")
    }

    /// Each worker leases a full batch; a 503 (the database is still recovering) is retried. As the worker
    /// does, a retry names the leases held (those of this round so far: the last round's results were all
    /// delivered), since a lease may have committed while its answer was lost (CI saw 24 tasks left leased
    /// to nobody who knew, decision 0016). A short answer is topped up: a lease skips rows that concurrent
    /// transactions hold locked (`SKIP LOCKED`; a lease statement locked twice its `max` as candidates until
    /// issue 16), so in the last round, where exactly 16 × 25 tasks remain, one worker got 11 and left 14
    /// queued (CI, 2 Dec).
    static func leaseBatches(_ coordinator: String, tokens: [String], calls: CallLog) async throws -> [[TaskLease]] {
        try await withThrowingTaskGroup(of: (Int, [TaskLease]).self) { group in
            for (index, token) in tokens.enumerated() {
                group.addTask {
                    let deadline = ContinuousClock.now + .seconds(120)
                    var inDoubt = false
                    var held: [TaskLease] = []
                    while ContinuousClock.now < deadline {
                        let call = await TimedCall.post(
                            coordinator, "/v1/leases", token: token,
                            json: LeaseRequest(
                                max: batch - held.count, wait: 0, held: inDoubt ? held.map(\.leaseID) : nil),
                            timeout: .seconds(60))
                        calls.append(call)
                        inDoubt = call.status != 200
                        if let answer = call.decode(LeaseResponse.self) {
                            let known = Set(held.map(\.leaseID))
                            held += answer.leases.filter { !known.contains($0.leaseID) }
                            if held.count >= batch { return (index, held) }
                        }
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    throw ClusterError("worker \(index) leased \(held.count) of \(batch) in two minutes")
                }
            }
            var leases = Array(repeating: [TaskLease](), count: tokens.count)
            for try await (index, leased) in group { leases[index] = leased }
            return leases
        }
    }

    /// Sends one batch until it is acknowledged, as a worker's spool does, waiting `Retry-After`
    /// between tries. Gives up after two minutes (the test then fails on the missing runs).
    static func deliver(_ results: [TaskResult], _ coordinator: String, token: String, calls: CallLog) async {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            // The client's own limit is far above the bound, so a hang shows up as a long call.
            let call = await TimedCall.post(
                coordinator, "/v1/results", token: token, json: ResultBatch(results: results), timeout: .seconds(60))
            calls.append(call)
            if let receipt = call.decode(ResultBatchReceipt.self) {
                #expect(receipt.results.allSatisfy { $0.status == .accepted }, "receipts: \(receipt.results)")
                return
            }
            let pause = call.retryAfter.flatMap(Double.init) ?? 1
            try? await Task.sleep(for: .milliseconds(Int(pause * 1000)))
        }
    }

    static func expectBounded(_ calls: [TimedCall], round: Int) {
        for call in calls {
            #expect(call.status == 200 || call.status == 503, "round \(round): \(call)")
            #expect(call.seconds <= requestBound, "round \(round): \(call) (bound \(requestBound) s)")
            if call.status == 503 {
                #expect(call.retryAfter != nil, "round \(round): a 503 without Retry-After: \(call)")
            }
        }
    }

    static func restartImmediately(_ postgres: EmbeddedPostgres) async throws {
        try await postgres.stop(mode: .immediate)
        _ = try await postgres.start()
    }

    static func result(_ lease: TaskLease) -> TaskResult {
        TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: ["accuracy": 0.9 + Double(lease.seed % 7) / 100], error: nil, logTail: nil, fingerprint: nil,
            hardwareClass: "fake")
    }

    static func count(_ client: PostgresClient, _ sql: String) async throws -> Int {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql))
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// What became of the tasks without an accepted run: their state, attempts and worker, so a failure
    /// says which way they were lost.
    static func printTasks(_ client: PostgresClient) async throws {
        let rows = try await client.query(
            """
            SELECT t.state::text, t.attempts, coalesce(w.name, '-'), count(*)::int FROM tasks t
            LEFT JOIN workers w ON w.id = t.worker_id
            WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id AND r.accepted)
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            """)
        for try await (state, attempts, worker, count) in rows.decode((String, Int, String, Int).self) {
            print("database crash: \(count) tasks without a run: state \(state), attempts \(attempts), worker \(worker)")
        }
    }

    /// The runs behind the stored score, or nil while the preprint is marked stale.
    static func storedScoreRuns(_ client: PostgresClient) async throws -> Int? {
        let rows = try await client.query(
            """
            SELECT s.runs, EXISTS (SELECT FROM stale_scores d WHERE d.preprint_id = s.preprint_id) FROM preprint_scores s
            WHERE s.preprint_id = \(preprint)
            """)
        for try await (runs, dirty) in rows.decode((Int, Bool).self) { return dirty ? nil : runs }
        return nil
    }

    /// A study of `tasks` tasks whose code never runs (the workers here are simulated), with one claim
    /// so the preprint gets a score.
    static func writeStudy(in root: URL, tasks: Int) throws -> URL {
        let directory = root.appendingPathComponent("study")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "print('REPRO_METRIC accuracy=0.9')\n".write(
            to: directory.appendingPathComponent("noop.py"), atomically: true, encoding: .utf8)
        let seeds = 25
        let datasets = (0..<(tasks / seeds)).map { "d\($0)" }.joined(separator: ", ")
        try """
        preprint: {id: "\(preprint)", title: "Database crash"}
        code: {bundle: .}
        run:
          command: ["python3", "noop.py", "--seed", "{seed}", "--dataset", "{dataset}"]
          timeout: 1m
          resources: {cpus: 1, memory: 256MiB, gpus: 0}
          max_attempts: 10
        matrix:
          seeds: {from: 0, count: \(seeds)}
          datasets: [\(datasets)]
        claims:
          - {metric: accuracy, dataset: d0, value: 0.9, direction: higher, tolerance: 0.05}
        """.write(to: directory.appendingPathComponent("study.yaml"), atomically: true, encoding: .utf8)
        return directory.appendingPathComponent("study.yaml")
    }
}

/// Every request of a phase, from many tasks at once.
final class CallLog: Sendable {
    private let calls = Mutex<[TimedCall]>([])

    func append(_ call: TimedCall) { calls.withLock { $0.append(call) } }

    var all: [TimedCall] { calls.withLock { $0 } }
}
