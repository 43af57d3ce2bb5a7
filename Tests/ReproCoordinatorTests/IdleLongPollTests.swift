import Foundation
import Logging
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// Issue 10, part 4: what an idle long-polling worker costs the database.
@Suite("Idle long-polls")
struct IdleLongPollTests {
    @Test("a long-poll that no notification wakes ends without a second statement")
    func idlePollOneStatement() async throws {
        try await CoordinatorHarness.run { harness in
            let worker = try await harness.worker(name: "idle")
            // A client of its own, so the background services' calls are not counted.
            let database = DatabaseClient(harness.database.client, deadline: .seconds(60), logger: TestDatabase.defaultLogger)
            let policy = LeasePolicy()
            let engine = LeaseEngine(
                queue: TaskQueue(client: database, policy: policy, logger: TestDatabase.defaultLogger),
                wakeup: harness.services.wakeup, policy: policy, logger: TestDatabase.defaultLogger)
            let before = database.calls
            let leases = try await engine.lease(worker: worker.workerID, memoryBytes: 8 << 30, gpus: 0, max: 1, wait: 1)
            #expect(leases.isEmpty)
            #expect(
                database.calls - before == 2,
                "one look before the wait (the lease statement and its check for locked rows), none after it")
        }
    }

    @Test("a long-poll woken by a notification looks again and gets the task")
    func wokenPollLooksAgain() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker(name: "waiting")
            let wakeup = harness.services.wakeup
            let poll = Task {
                let engine = LeaseEngine(
                    queue: harness.services.queue, wakeup: wakeup, policy: LeasePolicy(),
                    logger: TestDatabase.defaultLogger)
                return try await engine.lease(worker: worker.workerID, memoryBytes: 8 << 30, gpus: 0, max: 1, wait: 20)
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while wakeup.waitingCount == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let leases = try await poll.value
            #expect(leases.count == 1)
        }
    }

    @Test("cached keys in use are confirmed in one query past their TTL; a revoked one is dropped")
    func identitiesConfirmedInBulk() async throws {
        try await CoordinatorHarness.run { harness in
            let first = try await harness.worker(name: "first")
            let second = try await harness.worker(name: "second")
            // A client of its own, so that the coordinator's background services (score and reliability
            // maintainers) querying meanwhile do not count as this refresher's calls.
            let database = DatabaseClient(harness.services.client, logger: TestDatabase.defaultLogger)
            let accounts = AccountRepository(client: database, logger: TestDatabase.defaultLogger)
            // Seconds, not fractions: at load average 10 a 2 s TTL left too little room between the
            // confirmation's expiry and the look after the first one's.
            let ttl = Duration.seconds(10)
            let cache = IdentityCache(ttl: ttl)
            let refresher = IdentityRefresher(
                cache: cache, accounts: accounts, recentUse: .seconds(60), gate: Gate(),
                logger: TestDatabase.defaultLogger)
            for token in [first.token, second.token] {
                let hash = APIKey.hash(token)
                cache.store(try #require(try await accounts.identity(forKeyHash: hash)), for: hash)
            }
            let stored = ContinuousClock.now
            try await Task.sleep(for: ttl / 2)
            try await harness.database.client.query(
                "UPDATE api_keys SET revoked_at = now() WHERE key_hash = \(APIKey.hash(second.token))")
            let before = database.calls
            try await refresher.refreshOnce()
            #expect(database.calls - before == 1, "one query for every key in use")
            // Past the TTL of the first lookup (and well within that of the confirmation): still cached.
            try await Task.sleep(until: stored + ttl + .milliseconds(300))
            #expect(cache.lookup(APIKey.hash(first.token))?.workerID == first.workerID)
            #expect(cache.lookup(APIKey.hash(second.token)) == nil, "a revoked key is dropped at confirmation")
        }
    }

    @Test("an unconfirmed entry lapses at its TTL, and keys nobody uses are not confirmed")
    func lapseAndEviction() async throws {
        let identity = Identity(
            accountID: UUID(), roles: [.worker], workerID: UUID(), workerMemoryBytes: 0, workerGPUs: 0)
        let cache = IdentityCache(ttl: .milliseconds(200))
        let hash = APIKey.hash("rg_key")
        cache.store(identity, for: hash)
        #expect(cache.lookup(hash) != nil)
        #expect(cache.keysInUse(within: .seconds(60)) == [hash])
        try await Task.sleep(for: .milliseconds(300))
        #expect(cache.keysInUse(within: .milliseconds(100)).isEmpty, "not used lately: dropped")
        cache.store(identity, for: hash)
        try await Task.sleep(for: .milliseconds(300))
        #expect(cache.lookup(hash) == nil, "never confirmed again: lapsed")
    }
}
