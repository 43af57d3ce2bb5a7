import Foundation
import PostgresNIO
import ReproCore
import ReproMetrics
import Testing

@testable import ReproCoordinator

/// Metrics that must move after the event they count, not only exist (decision 0012): empty long-polls,
/// wake-ups, long-polls waiting, reaper requeues, score recomputations and database connections in use.
/// The registry is one per process and other suites run at the same time, so counters are checked for
/// having moved at least by this test's own events, never for exact totals.
@Suite("Coordinator metrics move")
struct CoordinatorMetricsMoveTests {
    static func value(_ name: String, _ labels: String...) -> Double {
        MetricsRegistry.exposition().split(separator: "\n").reduce(0) { sum, line in
            guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return sum }
            guard labels.allSatisfy({ line.contains($0) }) else { return sum }
            return sum + (Double(line.split(separator: " ").last ?? "") ?? 0)
        }
    }

    /// Polls `condition` until it holds or `limit` passes (a liveness bound, not a timing assertion).
    static func eventually(
        _ limit: Duration = .seconds(60), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test("an empty lease request, a long-poll waiting and its wake-up each move their metric")
    func leaseMetricsMove() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker(name: "poller", slots: 1)

            let empty = Self.value("reprogrid_lease_requests_total", #"result="empty""#)
            let nothing: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(nothing.leases.isEmpty)
            #expect(Self.value("reprogrid_lease_requests_total", #"result="empty""#) >= empty + 1)

            let wakeups = Self.value("reprogrid_lease_wakeups_total")
            let wakeup = harness.services.wakeup
            let poll = Task { () async throws -> LeaseResponse in
                try await harness.call(.post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 25))
            }
            // This harness's own long-poll is asleep on the wake-up signal: the gauge counts it.
            let asleep = try await Self.eventually(.seconds(20)) { wakeup.waitingCount > 0 }
            try #require(asleep, "the long-poll never started waiting")
            #expect(Self.value("reprogrid_long_polls_waiting") >= 1)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let woken = try await poll.value
            #expect(woken.leases.count == 1, "the submission's notification woke the long-poll, which leased its task")
            #expect(Self.value("reprogrid_lease_wakeups_total") >= wakeups + 1)
        }
    }

    @Test("a lease the reaper takes back moves reprogrid_reaper_requeued_total")
    func reaperRequeuesMove() async throws {
        // The reaper passes every 0.2 s here (the harness's default is once an hour).
        let policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.05, reaperIntervalSeconds: 0.2)
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker(name: "vanishing")
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            let requeued = Self.value("reprogrid_reaper_requeued_total")
            // The worker vanished: its lease ran out.
            try await harness.database.client.query(
                "UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = \(lease.taskID)")
            let moved = try await Self.eventually { Self.value("reprogrid_reaper_requeued_total") >= requeued + 1 }
            #expect(moved, "the reaper requeued the task but its counter did not move")
            let rows = try await harness.database.client.query("SELECT state FROM tasks WHERE id = \(lease.taskID)")
            var states: [String] = []
            for try await state in rows.decode(String.self) { states.append(state) }
            #expect(states == ["queued"])
        }
    }

    @Test("a completed study's score recomputation moves reprogrid_score_recomputations_total")
    func scoreRecomputationsMove() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker(name: "w")
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let recomputed = Self.value("reprogrid_score_recomputations_total")
            // The study's last result completes it and marks its preprint's score stale; the score
            // maintainer (nudged) recomputes it.
            let _: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token,
                json: ResultBatch(results: [LeaseLifecycleTests.result(try #require(leased.leases.first))]))
            let moved = try await Self.eventually {
                Self.value("reprogrid_score_recomputations_total") >= recomputed + 1
            }
            #expect(moved, "the preprint's score was recomputed but the counter did not move")
        }
    }

    @Test("calls holding pool connections count in reprogrid_db_connections_in_use")
    func connectionsInUseMove() async throws {
        try await CoordinatorHarness.run { harness in
            let database = harness.services.database
            let entered = AsyncStream<Void>.makeStream()
            let release = Gate()
            // Three calls hold a connection each until released.
            let holders = (0..<3).map { _ in
                Task {
                    try await database.withConnection { _ in
                        entered.continuation.yield()
                        await release.wait()
                    }
                }
            }
            var inside = 0
            for await _ in entered.stream {
                inside += 1
                if inside == 3 { break }
            }
            // Other suites' calls may hold connections too, but never fewer than these three.
            #expect(Self.value("reprogrid_db_connections_in_use") >= 3)
            release.open()
            for holder in holders { try await holder.value }
        }
    }
}
