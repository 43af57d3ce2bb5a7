import Foundation
import Logging
import ReproCore
import ReproTestSupport
import Synchronization
import Testing

@testable import ReproCoordinator

/// Issue 10, part 4: a worker that looked for work in vain makes no statement at its next poll while
/// nothing changed (``EmptyLooks``). That is safe only if every change that makes a task leasable wakes
/// it: one test per kind of change, each with a worker whose empty look is on record, waiting on a
/// long-poll that only a wake-up can end with a task (without one it ends empty after 30 s).
@Suite("Remembered empty looks", .serialized)
struct EmptyLookTests {
    /// A worker polling through its own engine, over a client of its own so its statements are counted
    /// apart from the background services'. `admit` counts quarantine checks.
    struct IdleWorker {
        let id: UUID
        let engine: LeaseEngine
        let database: DatabaseClient
        let admissions: Counter

        func poll(wait: Double) async throws -> [TaskLease] {
            let admissions = self.admissions
            return try await engine.lease(
                worker: id, memoryBytes: 8 << 30, gpus: 0, max: 1, wait: wait, admit: { admissions.increment() })
        }
    }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    /// Waits until the LISTEN connection has delivered `count` signals in all (its first comes when it
    /// connects), so a look made next is not made stale by a notification still on its way.
    static func waitForSignals(_ harness: CoordinatorHarness, _ count: UInt64) async throws {
        let wakeup = harness.services.wakeup
        let deadline = ContinuousClock.now + .seconds(20)
        while wakeup.signalCount < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(wakeup.signalCount == count, "notifications delivered")
    }

    /// Registers a worker and lets it look once in vain, so its empty look is on record.
    static func idleWorker(
        _ harness: CoordinatorHarness, name: String = "idle", look: Bool = true, policy: LeasePolicy = LeasePolicy()
    ) async throws -> IdleWorker {
        let registered = try await harness.worker(name: name)
        let database = DatabaseClient(harness.database.client, deadline: .seconds(60), logger: TestDatabase.defaultLogger)
        let engine = LeaseEngine(
            queue: TaskQueue(client: database, policy: policy, logger: TestDatabase.defaultLogger),
            wakeup: harness.services.wakeup, policy: policy, logger: TestDatabase.defaultLogger)
        let worker = IdleWorker(id: registered.workerID, engine: engine, database: database, admissions: Counter())
        if look {
            let leases = try await worker.poll(wait: 0)
            #expect(leases.isEmpty)
        }
        return worker
    }

    /// Starts a long-poll of `worker` (30 s unless said), makes `change` once the poll waits, and returns
    /// what it got.
    static func pollAcross(
        _ harness: CoordinatorHarness, _ worker: IdleWorker, wait: Double = 30, change: () async throws -> Void
    ) async throws -> [TaskLease] {
        let wakeup = harness.services.wakeup
        let poll = Task { try await worker.poll(wait: wait) }
        let deadline = ContinuousClock.now + .seconds(20)
        while wakeup.waitingCount == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(wakeup.waitingCount > 0, "the poll is waiting")
        try await change()
        return try await poll.value
    }

    static func spec(_ harness: CoordinatorHarness, bundle: String, replicas: Int = 1, maxAttempts: Int = 3) -> String {
        CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1, replicas: replicas, maxAttempts: maxAttempts)
    }

    @Test("a poll after an empty look makes no lease statement and no quarantine check while nothing changed")
    func freshLookCostsNothing() async throws {
        try await CoordinatorHarness.run { harness in
            try await Self.waitForSignals(harness, 1)
            let worker = try await Self.idleWorker(harness)
            #expect(worker.admissions.count == 1, "the first look checked the quarantine")
            let before = worker.database.calls
            let skipped = harness.services.wakeup.emptyLooks.skippedLooks
            for _ in 0..<3 {
                #expect(try await worker.poll(wait: 0.2).isEmpty)
            }
            #expect(worker.database.calls == before, "no statement")
            #expect(worker.admissions.count == 1, "no quarantine check")
            #expect(harness.services.wakeup.emptyLooks.skippedLooks - skipped == 3)
            // Another worker's look, or the same worker offering more, is not covered by this one.
            let other = try await Self.idleWorker(harness, name: "other")
            // A look in vain is two queries: the lease statement and the check for locked rows behind it.
            #expect(other.database.calls == 2)
            _ = try await worker.engine.lease(worker: worker.id, memoryBytes: 16 << 30, gpus: 0, max: 1, wait: 0)
            #expect(worker.database.calls == before + 2, "more memory offered: a new look")
        }
    }

    @Test("a submission reaches a worker whose empty look is on record")
    func submission() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await Self.idleWorker(harness)
            let leases = try await Self.pollAcross(harness, worker) {
                _ = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            }
            #expect(leases.count == 1)
        }
    }

    /// The Slurm step's failure: a worker's lease statement locked twice its batch (the replica rule, until
    /// issue 16) and leased one, and another worker looking at the same moment passed over both rows (`SKIP
    /// LOCKED`); any transaction holding a queued row locked does the same. The worker finds
    /// nothing, and, with no notification to come, used to sleep out its wait while the task stayed queued.
    @Test(
        "a task another transaction held locked and left queued reaches a worker that looked meanwhile, without a signal; with the locked-look check off it waits out its poll",
        arguments: [true, false])
    func lockedRows(checked: Bool) async throws {
        try await CoordinatorHarness.run { harness in
            try await Self.waitForSignals(harness, 1)  // the LISTEN connection is up
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            // The connection's signal and the submission's: none is left on its way to end the poll.
            try await Self.waitForSignals(harness, 2)
            let wakeup = harness.services.wakeup
            let signals = wakeup.signalCount
            var policy = LeasePolicy()
            policy.retryLockedLooks = checked
            let worker = try await Self.idleWorker(harness, look: false, policy: policy)
            let lock = try await RowLock.hold(harness, "SELECT id FROM tasks WHERE state = 'queued' FOR UPDATE")
            let leases = try await Self.pollAcross(harness, worker, wait: checked ? 30 : 3) {
                try await lock.release()
            }
            #expect(wakeup.signalCount == signals, "no signal ended the poll")
            #expect(leases.count == (checked ? 1 : 0))
        }
    }

    @Test("a failed attempt's retry reaches it once its back-off is over (retry, then 'became due')")
    func retryBecomingDue() async throws {
        // The reaper announces backed-off tasks that became due; it runs every 0.2 s here.
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.3, reaperIntervalSeconds: 0.2)
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            let other = try await harness.worker(name: "other")
            let first = try #require(
                try await harness.services.queue.lease(worker: other.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            let worker = try await Self.idleWorker(harness)
            let leases = try await Self.pollAcross(harness, worker) {
                let receipt = try await harness.services.queue.record(
                    results: [LeaseLifecycleTests.result(first, .failed)], worker: other.workerID)[0]
                #expect(receipt.taskState == .queued)
            }
            #expect(leases.map(\.taskID) == [first.taskID])
            #expect(leases.first?.attempt == 2)
        }
    }

    @Test("a lease the reaper requeues reaches it")
    func reaperRequeue() async throws {
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.05, reaperIntervalSeconds: 0.2)
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            let other = try await harness.worker(name: "other")
            let lease = try #require(
                try await harness.services.queue.lease(worker: other.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            let worker = try await Self.idleWorker(harness)
            let leases = try await Self.pollAcross(harness, worker) {
                // The lease runs out (time moved by SQL, which notifies nobody); the reaper requeues it.
                try await harness.database.client.query(
                    "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = \(lease.taskID)")
            }
            #expect(leases.map(\.taskID) == [lease.taskID])
        }
    }

    @Test("a lease handed back (its client went) reaches it")
    func handBack() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            let other = try await harness.worker(name: "other")
            let queue = harness.services.queue
            let lease = try #require(
                try await queue.lease(worker: other.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            let worker = try await Self.idleWorker(harness)
            let leases = try await Self.pollAcross(harness, worker) {
                let released = try await queue.release([lease], worker: other.workerID)
                #expect(released == 1)
            }
            #expect(leases.map(\.taskID) == [lease.taskID])
        }
    }

    @Test("a moderator's approval reaches it")
    func moderatorApproval() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher, trusted: false)
            let moderator = try await harness.key(.moderator, name: "mod")
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            let worker = try await Self.idleWorker(harness)
            let leases = try await Self.pollAcross(harness, worker) {
                let approved: StudyStatus = try await harness.call(
                    .post, "/v1/reviews/\(created.id)/approve", key: moderator, json: ApproveRequest(reason: "fine"))
                #expect(approved.state == .running)
            }
            #expect(leases.count == 1)
        }
    }

    @Test("a quarantine reaches a waiting worker whose empty look is on record; its release lets it lease again")
    func quarantineAndRelease() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let registered = try await harness.worker(name: "suspect")
            let empty: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: registered.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(empty.leases.isEmpty)
            #expect(harness.services.wakeup.emptyLooks.count >= 1, "its empty look is on record")
            let wakeup = harness.services.wakeup
            let poll = Task {
                try await harness.request(.post, "/v1/leases", key: registered.token, json: LeaseRequest(max: 1, wait: 30))
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while wakeup.waitingCount == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let _: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(registered.workerID)/quarantine", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "test"))
            // Woken, it is checked again and told, rather than answered "nothing" after 30 s.
            #expect(try await poll.value.status == .forbidden)

            _ = try await harness.submit(Self.spec(harness, bundle: bundle), key: researcher)
            let refused = try await harness.request(
                .post, "/v1/leases", key: registered.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(refused.status == .forbidden)
            let _: QuarantineOutcome = try await harness.call(
                .post, "/v1/workers/\(registered.workerID)/release", key: CoordinatorHarness.adminKey,
                json: QuarantineRequest(reason: "cleared"))
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: registered.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(leased.leases.count == 1)
        }
    }

    /// The one change no notification announces: worker A held replica 1 of a seed, so replica 2 is not
    /// for A; when B leases replica 1 (its retry became due), replica 2 becomes A's to take. Only
    /// ``QueueProbe`` catches it; without it, A's remembered look would keep it from replica 2.
    @Test("a replica leased elsewhere frees its sibling: the queue probe makes the remembered look stale")
    func replicaRuleNeedsTheProbe() async throws {
        // A long back-off, and time moved by SQL: nothing becomes due by itself, the reaper never runs.
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 3600, reaperIntervalSeconds: 3600)
        try await CoordinatorHarness.run(policy: policy) { harness in
            // The LISTEN connection is up before anything notifies: a notification sent before it connects is
            // not delivered (its connecting signal stands for it), and the count below would fall short.
            try await Self.waitForSignals(harness, 1)
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(Self.spec(harness, bundle: bundle, replicas: 2), key: researcher)
            let queue = harness.services.queue
            let worker = try await Self.idleWorker(harness, name: "a", look: false)
            // A takes replica 1 and fails it: it is queued again (backed off) and still names A.
            let first = try #require(try await queue.lease(worker: worker.id, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            let receipt = try await queue.record(
                results: [LeaseLifecycleTests.result(first, .failed)], worker: worker.id)[0]
            #expect(receipt.taskState == .queued)
            // Connected, the submission, the retry: none may arrive after A's look below.
            try await Self.waitForSignals(harness, 3)
            // A looks: replica 1 is backed off, replica 2 is a sibling of one A held. Nothing.
            #expect(try await worker.poll(wait: 0).isEmpty)
            let b = try await harness.worker(name: "b")
            try await harness.database.client.query("UPDATE tasks SET not_before = now() WHERE id = \(first.taskID)")
            let taken = try await queue.lease(worker: b.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0)
            #expect(taken.map(\.taskID) == [first.taskID])

            let calls = worker.database.calls
            #expect(try await worker.poll(wait: 0).isEmpty, "the remembered look hides replica 2")
            #expect(worker.database.calls == calls)
            let probe = QueueProbe(
                database: DatabaseClient(harness.database.client, deadline: .seconds(60), logger: TestDatabase.defaultLogger),
                looks: harness.services.wakeup.emptyLooks, interval: .seconds(20), gate: Gate(),
                logger: TestDatabase.defaultLogger)
            await probe.probeOnce()
            let second = try await worker.poll(wait: 0)
            #expect(second.count == 1 && second.first?.taskID != first.taskID, "replica 2, now A's to take")
        }
    }

    @Test("the queue probe keeps remembered looks while nothing is due, and costs no query when none is on record")
    func probeKeepsLooksOnAnEmptyQueue() async throws {
        try await CoordinatorHarness.run { harness in
            try await Self.waitForSignals(harness, 1)
            let looks = harness.services.wakeup.emptyLooks
            let database = DatabaseClient(harness.database.client, deadline: .seconds(60), logger: TestDatabase.defaultLogger)
            let probe = QueueProbe(
                database: database, looks: looks, interval: .seconds(20), gate: Gate(), logger: TestDatabase.defaultLogger)
            await probe.probeOnce()
            #expect(database.calls == 0, "no look on record: no query")
            let worker = try await Self.idleWorker(harness)
            await probe.probeOnce()
            #expect(database.calls == 1)
            let before = worker.database.calls
            #expect(try await worker.poll(wait: 0).isEmpty)
            #expect(worker.database.calls == before, "still remembered: nothing was due")
        }
    }
}
