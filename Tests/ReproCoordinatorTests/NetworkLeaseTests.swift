import Foundation
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// `run.network: true` against a real PostgreSQL: such tasks go only to lease requests that say
/// `allow_network: true`; everything else is leased as before.
@Suite("Network leases")
struct NetworkLeaseTests {
    static func networkSpec(bundle: String, datasets: [String], seeds: Int) -> String {
        let spec = CoordinatorHarness.spec(
            bundle: bundle, datasets: datasets, seeds: seeds, preprint: "arXiv:2402.05555")
        precondition(spec.contains("  max_attempts: 3\n"))
        return spec.replacingOccurrences(of: "  max_attempts: 3\n", with: "  max_attempts: 3\n  network: true\n")
    }

    @Test("a study with run.network: true is leased only to workers that allow the network")
    func networkTasksNeedAllowNetwork() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            // Network tasks first in the queue, so a worker without network would meet them first.
            let networked = try await harness.submit(
                Self.networkSpec(bundle: bundle, datasets: ["digits"], seeds: 3), key: researcher)
            let offline = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["wine"], seeds: 2), key: researcher)
            let rows = try await harness.database.client.query(
                "SELECT study_id, bool_and(network), bool_or(network), count(*) FROM tasks GROUP BY study_id")
            var flags: [UUID: (all: Bool, any: Bool, count: Int)] = [:]
            for try await (study, all, any, count) in rows.decode((UUID, Bool, Bool, Int).self) {
                flags[study] = (all, any, count)
            }
            #expect(flags[networked.id]?.all == true && flags[networked.id]?.count == 3)
            #expect(flags[offline.id]?.any == false && flags[offline.id]?.count == 2)

            // A worker that does not allow the network, by default (the field left out) or explicitly.
            let plain = try await harness.worker(name: "plain")
            let raw = try await harness.request(
                .post, "/v1/leases", key: plain.token, body: Data(#"{"max": 50, "wait": 0}"#.utf8))
            #expect(raw.status.code == 200)
            let first = try WireCoding.decoder().decode(LeaseResponse.self, from: Data(raw.body.readableBytesView))
            #expect(first.leases.count == 2)
            #expect(first.leases.allSatisfy { $0.studyID == offline.id && !$0.job.network })
            let refusedAgain: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: plain.token, json: LeaseRequest(max: 50, wait: 0, allowNetwork: false))
            #expect(refusedAgain.leases.isEmpty, "network tasks must not reach a worker without allow_network")
            // Long-polling does not change that: the wait runs out with nothing.
            let waited: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: plain.token, json: LeaseRequest(max: 1, wait: 0.3))
            #expect(waited.leases.isEmpty)

            // A worker that allows it gets them, with the flag in the job it runs.
            let open = try await harness.worker(name: "open")
            let granted: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: open.token, json: LeaseRequest(max: 50, wait: 0, allowNetwork: true))
            #expect(granted.leases.count == 3)
            #expect(granted.leases.allSatisfy { $0.studyID == networked.id && $0.job.network })

            // The queue's own API (used by the lease engine) filters the same way.
            let again = try await harness.submit(
                Self.networkSpec(bundle: bundle, datasets: ["iris"], seeds: 1), key: researcher)
            let queue = harness.services.queue
            #expect(try await queue.lease(worker: plain.workerID, max: 5, memoryBytes: 8 << 30, gpus: 0).isEmpty)
            let direct = try await queue.lease(
                worker: open.workerID, max: 5, memoryBytes: 8 << 30, gpus: 0, allowNetwork: true)
            #expect(direct.map(\.studyID) == [again.id])
        }
    }

    @Test("a worker that allows the network still gets ordinary tasks")
    func allowNetworkAlsoTakesOfflineTasks() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let offline = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["wine"], seeds: 2), key: researcher)
            let worker = try await harness.worker(name: "open")
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 5, wait: 0, allowNetwork: true))
            #expect(leased.leases.count == 2)
            #expect(leased.leases.allSatisfy { $0.studyID == offline.id && !$0.job.network })
        }
    }

    @Test("allow_network must be a boolean")
    func allowNetworkMustBeABoolean() async throws {
        try await CoordinatorHarness.run { harness in
            let worker = try await harness.worker(name: "w")
            for body in [
                #"{"max": 1, "wait": 0, "allow_network": "yes"}"#, #"{"max": 1, "wait": 0, "allow_network": 1}"#,
            ] {
                let response = try await harness.request(.post, "/v1/leases", key: worker.token, body: Data(body.utf8))
                #expect(response.status.code == 400)
                let problem = try CoordinatorHarness.problem(response)
                #expect(problem.field == "allow_network")
            }
        }
    }

    @Test("a spec whose run.network is not a boolean is refused with 422 naming the field")
    func nonBooleanNetworkIsRefused() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let spec = Self.networkSpec(bundle: bundle, datasets: ["digits"], seeds: 1)
                .replacingOccurrences(of: "network: true", with: "network: \"sometimes\"")
            let response = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(spec.utf8), contentType: "application/yaml")
            #expect(response.status.code == 422)
            let problem = try CoordinatorHarness.problem(response)
            #expect(problem.issues?.contains { $0.path == "run.network" } == true)
            let tasks = try await harness.database.client.query("SELECT count(*) FROM tasks")
            for try await count in tasks.decode(Int.self) { #expect(count == 0) }
        }
    }
}
