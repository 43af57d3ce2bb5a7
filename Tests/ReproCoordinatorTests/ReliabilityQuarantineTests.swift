import Foundation
import Logging
import ReproCore
import Testing

@testable import ReproCoordinator

/// Replicas checked against each other end to end: a fake worker 10 σ off is flagged, quarantine excludes its
/// runs and requeues its tasks, release restores them, and every action is in the quarantine log.
@Suite("Reliability and quarantine", .serialized)
struct ReliabilityQuarantineTests {
    static let sigma = ReliabilityPlanTests.sigma

    static func result(_ lease: TaskLease, _ accuracy: Double) -> TaskResult {
        TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: ["accuracy": accuracy], error: nil, logTail: nil, fingerprint: nil, hardwareClass: "test-cpu")
    }

    /// Leases up to `max` tasks for `worker` (asking again while the lease's scan window hands out fewer)
    /// and reports `value(seed)` for each.
    @discardableResult
    static func run(
        _ harness: CoordinatorHarness, _ worker: WorkerRegistered, max: Int, value: (Int64) -> Double
    ) async throws -> [TaskLease] {
        var all: [TaskLease] = []
        while all.count < max {
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: max - all.count, wait: 0))
            if leased.leases.isEmpty { break }
            let results = leased.leases.map { result($0, value($0.seed)) }
            let receipts: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            #expect(receipts.results.allSatisfy { $0.status == .accepted })
            all += leased.leases
        }
        return all.sorted { $0.seed < $1.seed }
    }

    static func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<150 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
    }

    static func workers(_ harness: CoordinatorHarness, key: String = CoordinatorHarness.adminKey) async throws
        -> [UUID: WorkerReliability]
    {
        let list: WorkerList = try await harness.call(.get, "/v1/workers", key: key)
        return Dictionary(uniqueKeysWithValues: list.workers.map { ($0.workerID, $0) })
    }

    @Test("a fake worker is flagged, quarantined (runs out, tasks redone), released (runs back); all logged")
    func fakeWorkerLifecycle() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 6, replicas: 3), key: researcher)
            let fake = try await harness.worker(name: "fake", slots: 6)
            let a = try await harness.worker(name: "a", slots: 6)
            let b = try await harness.worker(name: "b", slots: 6)
            let c = try await harness.worker(name: "c", slots: 6)
            // The layout of ReliabilityPlanTests: the fake worker holds one replica of seeds 0 and 1.
            func base(_ seed: Int64) -> Double { 0.9 + Double(seed) / 100 }
            let fakeLeases = try await Self.run(harness, fake, max: 2) { base($0) + 10 * Self.sigma }
            #expect(fakeLeases.map(\.seed) == [0, 1])
            try await Self.run(harness, a, max: 6) { base($0) + ($0 < 2 ? 0 : 0.36 * Self.sigma) }
            try await Self.run(harness, b, max: 6) { base($0) + ($0 < 2 ? 0.9 * Self.sigma : -Self.sigma) }
            let cLeases = try await Self.run(harness, c, max: 6) { base($0) }
            #expect(cLeases.map(\.seed) == [2, 3, 4, 5])

            // The study completed; the background pass checks its replicas.
            try await Self.waitFor("the reliability pass") {
                try await Self.workers(harness)[fake.workerID]?.disagreeing == 2
            }
            var rows = try await Self.workers(harness)
            #expect(rows[fake.workerID]?.agreeing == 0)
            #expect(rows[fake.workerID]?.disagreementRate == 1)
            #expect(rows[fake.workerID]?.accepted == 2)
            #expect(rows[a.workerID]?.agreeing == 6 && rows[a.workerID]?.disagreeing == 0)
            #expect(rows[a.workerID]?.consecutiveAgreeing == 6)
            #expect(rows[c.workerID]?.agreeing == 4)
            // Below the automatic rule's 20 checks: not quarantined on its own.
            #expect(rows[fake.workerID]?.quarantine == nil)

            // Its volunteer sees it; another volunteer does not; a worker token may not look.
            let fakeOwner = try #require(rows[fake.workerID]?.ownerAccountID)
            let other = try await harness.key(.volunteer, name: "other")
            #expect(try await Self.workers(harness, key: other).isEmpty)
            let hidden = try await harness.request(.get, "/v1/workers/\(fake.workerID)", key: other)
            #expect(hidden.status == .notFound)
            #expect(try await harness.request(.get, "/v1/workers", key: fake.token).status == .forbidden)

            // Quarantine: runs excluded (kept, marked), tasks back in the queue, no more leases.
            let before: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(before.acceptedRuns == 18)
            let quarantined: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(fake.workerID)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "10 σ off on every checked seed"))
            #expect(quarantined.runsExcluded == 2 && quarantined.tasksRequeued == 2)
            let again = try await harness.request(
                .post, "/v1/workers/\(fake.workerID)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "twice"))
            #expect(again.status == .conflict)
            var report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.acceptedRuns == 16)
            #expect(report.runs?.allSatisfy { $0.workerID != fake.workerID } == true)
            #expect(report.tasks.queued == 2)
            #expect(report.state == .running)
            let runs: RunList = try await harness.call(.get, "/v1/studies/\(created.id)/runs", key: researcher)
            #expect(runs.runs.filter { $0.workerID == fake.workerID }.count == 2)
            #expect(runs.runs.filter { $0.workerID == fake.workerID }.allSatisfy { !$0.accepted })
            let refused = try await harness.request(
                .post, "/v1/leases", key: fake.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(refused.status == .forbidden)
            #expect(try CoordinatorHarness.problem(refused).detail.contains("quarantined"))
            rows = try await Self.workers(harness)
            #expect(rows[fake.workerID]?.quarantine?.reason == "10 σ off on every checked seed")
            #expect(rows[fake.workerID]?.excludedRuns == 2)

            // Release before anyone redid them: the runs count again and their tasks close.
            let released: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(fake.workerID)/release", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "false alarm"))
            #expect(released.runsRestored == 2 && released.runsSuperseded == 0)
            report = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.acceptedRuns == 18)
            #expect(report.state == .completed)
            #expect(report.tasks.succeeded == 18)

            // Quarantined again, the tasks are redone by another worker; releasing then keeps the redo.
            let _: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(fake.workerID)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "confirmed"))
            let d = try await harness.worker(name: "d", slots: 6)
            let redone = try await Self.run(harness, d, max: 6) { base($0) + 0.2 * Self.sigma }
            #expect(redone.map(\.seed) == [0, 1])
            report = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.acceptedRuns == 18 && report.state == .completed)
            let afterRedo: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(fake.workerID)/release", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "appeal"))
            #expect(afterRedo.runsRestored == 0 && afterRedo.runsSuperseded == 2)
            report = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.acceptedRuns == 18)
            #expect(report.runs?.allSatisfy { $0.workerID != fake.workerID } == true)

            // A whole account: every worker of the volunteer.
            let account: QuarantineOutcome = try await harness.call(
                .post, "/v1/accounts/\(fakeOwner)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "the volunteer's machines"))
            #expect(account.workers == [fake.workerID])
            #expect(try await Self.workers(harness)[fake.workerID]?.quarantine?.scope == "account")
            let _: QuarantineOutcome = try await harness.call(
                .post, "/v1/accounts/\(fakeOwner)/release", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "cleared"))

            // The log: every action, newest first, with who and why.
            let log: QuarantineEventList = try await harness.call(
                .get, "/v1/quarantine/events", key: CoordinatorHarness.adminKey)
            #expect(
                log.events.map(\.action) == ["release", "quarantine", "release", "quarantine", "release", "quarantine"])
            #expect(log.events.allSatisfy { $0.actor != nil })
            #expect(log.events.last?.reason == "10 σ off on every checked seed")
            #expect(log.events.last?.runsExcluded == 2 && log.events.last?.tasksRequeued == 2)
            #expect(log.events[4].runsRestored == 2)
            #expect(log.events[1].accountID == fakeOwner)
            // Append-only in the database too.
            await #expect(throws: (any Error).self) {
                try await harness.services.client.query("DELETE FROM quarantine_events", logger: Logger(label: "test"))
            }
            // Bad input is a 4xx naming the field.
            let empty = try await harness.request(
                .post, "/v1/workers/\(a.workerID)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "  "))
            #expect(empty.status == .badRequest)
            #expect(try CoordinatorHarness.problem(empty).field == "reason")
            let unknown = try await harness.request(
                .post, "/v1/workers/\(UUID())/release", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "x"))
            #expect(unknown.status == .notFound)
        }
    }

    @Test("a quarantined worker leases nothing on any route and is told why; its cycle's results are still recorded")
    func quarantineGatesEveryLease() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 6), key: researcher)
            let flagged = try await harness.worker(name: "flagged")
            let ofAccount = try await harness.worker(name: "of-account")
            let clean = try await harness.worker(name: "clean")
            let first: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: flagged.token, json: LeaseRequest(max: 1, wait: 0))
            let _: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(flagged.workerID)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "flagged by hand"))
            let owner = try #require(try await Self.workers(harness)[ofAccount.workerID]?.ownerAccountID)
            let _: QuarantineOutcome = try await harness.call(
                .post, "/v1/accounts/\(owner)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "account flagged"))

            // The lease statement itself leases them nothing while tasks are queued: the gate is in it.
            let queue = harness.services.queue
            for worker in [flagged, ofAccount] {
                #expect(try await queue.lease(worker: worker.workerID, max: 3, memoryBytes: 8 << 30, gpus: 0).isEmpty)
            }
            // Each route tells why.
            for (worker, reason) in [(flagged, "flagged by hand"), (ofAccount, "account flagged")] {
                for (path, json) in [
                    ("/v1/leases", try WireCoding.encoder().encode(LeaseRequest(max: 2, wait: 0))),
                    ("/v1/leases/cycle", try WireCoding.encoder().encode(CycleRequest(results: [], max: 2, wait: 5))),
                ] {
                    let refused = try await harness.request(.post, path, key: worker.token, body: json)
                    #expect(refused.status == .forbidden, "\(path)")
                    #expect(try CoordinatorHarness.problem(refused).detail.contains(reason), "\(path)")
                }
            }
            // A cycle carrying results: they are recorded (the worker's spool needs its receipts), no task is
            // leased, and the request does not wait out its long-poll for nothing.
            let started = ContinuousClock.now
            let cycle: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: flagged.token,
                json: CycleRequest(results: first.leases.map { LeaseLifecycleTests.result($0) }, max: 2, wait: 20))
            #expect(cycle.lease.leases.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(15))
            // The receipt is the one `POST /v1/results` gives for the same result (its lease was requeued by
            // the quarantine, so it no longer counts), not a refusal of the request.
            let alone: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: flagged.token,
                json: ResultBatch(results: first.leases.map { LeaseLifecycleTests.result($0) }))
            #expect(cycle.results.map(\.status) == alone.results.map(\.status))
            #expect(cycle.results.count == 1)

            // The boundary off: a worker nobody quarantined leases from the same queue.
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: clean.token, json: LeaseRequest(max: 3, wait: 0))
            #expect(leased.leases.count == 3)
        }
    }

    @Test("spot-checked seeds get an extra replica on a worker of another volunteer account")
    func spotCheckNeedsAnotherAccount() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let yaml =
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 3)
                + "\nverification: {replicate_fraction: 1}\n"
            let created = try await harness.submit(yaml, key: researcher)
            #expect(created.taskCount == 6)
            let volunteer = try await harness.key(.volunteer, name: "two-machines")
            func register(_ name: String, _ key: String) async throws -> WorkerRegistered {
                try await harness.call(
                    .post, "/v1/workers", key: key,
                    json: WorkerRegistration(
                        name: name, slots: 8, cpus: 2, memoryBytes: 8 << 30, gpus: 0, hardwareClass: "test-cpu"))
            }
            let first = try await register("first", volunteer)
            let second = try await register("second", volunteer)
            let firstLeases: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: first.token, json: LeaseRequest(max: 8, wait: 0))
            #expect(firstLeases.leases.count == 3)
            // The same volunteer's other machine may not confirm them.
            let secondLeases: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: second.token, json: LeaseRequest(max: 8, wait: 0))
            #expect(secondLeases.leases.isEmpty)
            let stranger = try await harness.worker(name: "stranger", slots: 8)
            let strangerLeases: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: stranger.token, json: LeaseRequest(max: 8, wait: 0))
            #expect(strangerLeases.leases.count == 3)
            #expect(Set(strangerLeases.leases.map(\.seed)) == Set(firstLeases.leases.map(\.seed)))
        }
    }
}
