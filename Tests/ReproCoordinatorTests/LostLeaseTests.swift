import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Lease answers lost after their transaction committed (decision 0016): a worker left in doubt names
/// the leases it holds, and the coordinator sends the others again instead of leaving them to expire.
@Suite("Lost lease answers", .serialized)
struct LostLeaseTests {
    @Test("a lease whose answer was lost is sent again to its worker when it names what it holds, and only to it")
    func lostLeasesAreResent() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 3), key: researcher)
            #expect(created.taskCount == 6)
            let worker = try await harness.worker(name: "in-doubt")
            let stranger = try await harness.worker(name: "stranger")

            // The lease commits, and its answer never reaches the worker (a crash, a deadline after the commit).
            let lost = try await harness.services.queue.lease(worker: worker.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0)
            #expect(lost.count == 2)

            // Without `held` (the boundary off), the worker gets other tasks and the lost ones stay leased to it
            // until their TTL runs out: two slots' worth of work waits for the reaper, an attempt burnt on each.
            let plain: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0))
            #expect(plain.leases.count == 2)
            #expect(Set(plain.leases.map(\.taskID)).isDisjoint(with: lost.map(\.taskID)))
            #expect(try await leasedTo(harness, worker.workerID) == Set(lost.map(\.taskID) + plain.leases.map(\.taskID)))

            // Another worker naming nothing held gets none of them: the resend is fenced by worker.
            let other: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: stranger.token, json: LeaseRequest(max: 1, wait: 0, held: []))
            #expect(other.leases.count == 1)
            #expect(!lost.map(\.taskID).contains(other.leases[0].taskID))

            // The worker in doubt names what it holds: the lost leases come back as they were, expiry renewed.
            // Past the next whole second: the wire carries expiry times to the second.
            try await Task.sleep(for: .milliseconds(1100))
            let resent: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token,
                json: LeaseRequest(max: 5, wait: 0, held: plain.leases.map(\.leaseID)))
            #expect(resent.leases.map(\.taskID) == lost.map(\.taskID))
            #expect(resent.leases.map(\.leaseID) == lost.map(\.leaseID))
            #expect(resent.leases.map(\.attempt) == lost.map(\.attempt))
            #expect(zip(resent.leases, lost).allSatisfy { $0.leaseExpiresAt > $1.leaseExpiresAt })
            #expect(resent.leases.allSatisfy { $0.arguments.contains("--seed") })

            // Naming everything it holds, nothing is resent: the request leases as usual (one task is left).
            let held = (lost + plain.leases).map(\.leaseID)
            let fresh: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 5, wait: 0, held: held))
            #expect(fresh.leases.count == 1)

            // The cycle route does the same in its transaction: results of the resent leases are accepted
            // (their lease ids never changed), and a lease lost again comes back beside them.
            let results = resent.leases.map { LeaseLifecycleTests.result($0) }
            let cycle: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: worker.token,
                json: CycleRequest(results: results, max: 3, wait: 0, held: plain.leases.map(\.leaseID)))
            #expect(cycle.results.map(\.status) == [.accepted, .accepted])
            #expect(cycle.lease.leases.map(\.leaseID) == fresh.leases.map(\.leaseID))
            let runs = try await harness.database.client.query(
                "SELECT count(*) FROM runs WHERE study_id = \(created.id) AND accepted")
            for try await count in runs.decode(Int64.self) { #expect(count == 2) }
        }
    }

    @Test("a resend waits for a lease of the same worker still running on the server, and sends it")
    func resendWaitsForALeaseInFlight() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine"], seeds: 3), key: researcher)
            let worker = try await harness.worker(name: "late-commit")
            let queue = harness.services.queue

            // The lease of a request that gave up at its deadline, still running on the server: its
            // statement has taken its rows (and the worker's fence) and will commit after the worker,
            // told 503, has already asked again.
            // The project's one-way signals: the lease is running, and the test lets it commit.
            let leased = Gate()
            let mayCommit = Gate()
            let late = Task {
                try await harness.database.client.withConnection { connection in
                    try await connection.query("BEGIN", logger: harness.database.logger)
                    let rows = try await LeaseStatement(
                        worker: worker.workerID, max: 2, memoryBytes: 8 << 30, gpus: 0, allowNetwork: false,
                        ttlSeconds: 60
                    ).run(on: connection, prepared: false, logger: harness.database.logger)
                    let leases = try await queue.leases(from: rows)
                    leased.open()
                    await mayCommit.wait()
                    try await connection.query("COMMIT", logger: harness.database.logger)
                    return leases
                }
            }
            await leased.wait()

            // The boundary off: the resend statement alone, beside the open lease, sees none of its rows
            // (not committed yet, and locked): the worker's retry would lease other tasks, and these two
            // would stay leased to it, unknown, until their TTL.
            let unfenced = try await harness.database.client.withConnection { connection in
                try await queue.leases(
                    from: ResendStatement(worker: worker.workerID, held: [], max: 5, ttlSeconds: 60)
                        .run(on: connection, prepared: false, logger: harness.database.logger))
            }
            #expect(unfenced.isEmpty)

            // The boundary on: the worker's retry names what it holds (nothing); its resend waits on the
            // fence until the late lease commits, then answers exactly those leases.
            let retry = Task {
                let answer: LeaseResponse = try await harness.call(
                    .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 2, wait: 0, held: []))
                return answer
            }
            try await Task.sleep(for: .milliseconds(500))
            mayCommit.open()
            let lost = try await late.value
            let answer = try await retry.value
            #expect(lost.count == 2)
            #expect(answer.leases.map(\.leaseID) == lost.map(\.leaseID))
            #expect(try await leasedTo(harness, worker.workerID) == Set(lost.map(\.taskID)))
        }
    }

    @Test("held is checked: more than the limit, or not lease ids, is 400 naming the field")
    func heldIsValidated() async throws {
        try await CoordinatorHarness.run { harness in
            let worker = try await harness.worker(name: "bad-held")
            let tooMany = (0...TaskQueue.maxHeld).map { _ in UUID() }
            let refused = [
                try await harness.request(
                    .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0, held: tooMany)),
                try await harness.request(
                    .post, "/v1/leases/cycle", key: worker.token,
                    json: CycleRequest(results: [], max: 1, wait: 0, held: tooMany)),
            ]
            for response in refused {
                #expect(response.status.code == 400)
                #expect(try CoordinatorHarness.problem(response).field == "held")
            }
            let response = try await harness.request(
                .post, "/v1/leases", key: worker.token, body: Data(#"{"max": 1, "wait": 0, "held": ["not-a-uuid"]}"#.utf8))
            #expect(response.status.code == 400)
        }
    }

    /// The tasks leased to `worker` now.
    func leasedTo(_ harness: CoordinatorHarness, _ worker: UUID) async throws -> Set<Int64> {
        let rows = try await harness.database.client.query(
            "SELECT id FROM tasks WHERE worker_id = \(worker) AND state = 'leased'")
        var ids: Set<Int64> = []
        for try await id in rows.decode(Int64.self) { ids.insert(id) }
        return ids
    }
}

