import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// Issue 10, part 2: a long-poll whose client has gone must lease nothing, and tasks leased for a
/// client that went while the lease statement ran go back to the queue at once, attempt given back.
@Suite("Ghost leases", .serialized)
struct GhostLeaseTests {
    static let deadPollers = 4

    @Test("long-polls whose clients disconnected lease nothing; a live poller gets the task at once")
    func deadPollersLeaseNothing() async throws {
        try await CoordinatorHarness.run(testing: .live) { harness in
            let port = try #require(harness.client.port)
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            var latencies: [Duration] = []
            // A few rounds: the figure of one round says little on a loaded machine.
            for round in 0..<5 {
                let (latency, leaseHolder, attempts) = try await Self.round(
                    round, harness: harness, port: port, researcher: researcher, bundle: bundle)
                latencies.append(latency)
                #expect(leaseHolder == .live, "round \(round): the task went to \(leaseHolder)")
                #expect(attempts == 1, "round \(round): no attempt burnt on a dead poller")
            }
            let milliseconds = latencies.map {
                Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000
            }
            print(
                "ghost leases: submit → live poller answered in "
                    + milliseconds.map { String(format: "%.1f ms", $0) }.joined(separator: ", ")
                    + " (\(Self.deadPollers) dead pollers each round)")
        }
    }

    enum Holder: Equatable, CustomStringConvertible {
        case live, dead, nobody
        var description: String { "\(self == .live ? "the live poller" : self == .dead ? "a dead poller" : "nobody")" }
    }

    /// One round: dead pollers connect and drop their connections while waiting, one live poller
    /// waits, and a one-task study is submitted. Returns how long the task took to reach the live
    /// poller (from just before the submission), who holds it, and its attempts.
    static func round(
        _ round: Int, harness: CoordinatorHarness, port: Int, researcher: String, bundle: String
    ) async throws -> (Duration, Holder, Int) {
        let wakeup = harness.services.wakeup
        var dead: [(client: TestClient, worker: WorkerRegistered)] = []
        for index in 0..<deadPollers {
            let worker = try await harness.worker(name: "dead-\(round)-\(index)")
            let client = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(60)))
            client.connect()
            try await client.executeAndDontWaitForResponse(leaseRequest(token: worker.token, wait: 30))
            dead.append((client, worker))
        }
        try await waitUntil("\(deadPollers) pollers wait") { wakeup.waitingCount == deadPollers }
        // The workers die: their sockets close while their long-polls wait.
        for poller in dead { try await poller.client.close(mode: .all) }
        try await waitUntil("the dead pollers' waits end") { wakeup.waitingCount == 0 }

        let live = try await harness.worker(name: "live-\(round)")
        let liveClient = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(60)))
        liveClient.connect()
        let poll = Task { try await liveClient.execute(leaseRequest(token: live.token, wait: 30)) }
        try await waitUntil("the live poller waits") { wakeup.waitingCount == 1 }

        let submitted = ContinuousClock.now
        _ = try await harness.submit(
            CoordinatorHarness.spec(
                bundle: bundle, datasets: ["d\(round)"], seeds: 1, preprint: "arXiv:2405.0000\(round)"),
            key: researcher)
        let response = try await poll.value
        let latency = ContinuousClock.now - submitted
        try await liveClient.shutdown()
        let answer = try WireCoding.decoder().decode(
            LeaseResponse.self, from: Data((response.body ?? ByteBuffer()).readableBytesView))
        #expect(answer.leases.count == 1, "round \(round): the live poller's answer: \(answer.leases)")
        // "At once" is told from "when the wait ran out" (30 s, the most allowed) with a wide margin,
        // since a loaded 2-core machine stalls a moment for seconds; the figures are printed.
        #expect(latency < .seconds(20), "round \(round): \(latency)")

        let rows = try await harness.database.client.query(
            "SELECT worker_id, attempts FROM tasks WHERE dataset = \("d\(round)")")
        for try await (worker, attempts) in rows.decode((UUID?, Int).self) {
            let holder: Holder =
                worker == live.workerID ? .live : dead.contains { $0.worker.workerID == worker } ? .dead : .nobody
            return (latency, holder, attempts)
        }
        return (latency, .nobody, 0)
    }

    @Test("tasks leased while the client went are handed back at once, with the attempt given back")
    func handedBackInTheSameRequest() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2), key: researcher)
            let gone = try await harness.worker(name: "gone")
            let other = try await harness.worker(name: "other")
            let engine = LeaseEngine(
                queue: harness.services.queue, wakeup: harness.services.wakeup, policy: LeasePolicy(),
                logger: TestDatabase.defaultLogger)
            let client = ClientConnection()

            // Hold the lease statement back (it waits for the table lock) and let the client go
            // meanwhile: the statement then leases for a client that is no longer there.
            let leased = try await withPostgresClient(try DatabaseURL(harness.database.url).configuration()) { locker in
                try await locker.withTransaction(logger: TestDatabase.defaultLogger) { connection in
                    try await connection.query(
                        "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.defaultLogger)
                    let lease = Task {
                        try await engine.lease(
                            worker: gone.workerID, memoryBytes: 8 << 30, gpus: 0, max: 2, wait: 0, client: client)
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    client.markClosed()
                    return lease
                }.value
            }
            #expect(leased.isEmpty, "a client that went gets nothing")
            let rows = try await harness.database.client.query(
                "SELECT count(*) FILTER (WHERE state = 'queued' AND attempts = 0 AND worker_id IS NULL), count(*) FROM tasks"
            )
            for try await (queued, total) in rows.decode((Int, Int).self) {
                #expect(queued == total, "every task is queued again with no attempt used")
            }
            // And another worker gets them at once.
            let next: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: other.token, json: LeaseRequest(max: 2, wait: 0))
            #expect(next.leases.count == 2)
            #expect(next.leases.allSatisfy { $0.attempt == 1 })
        }
    }

    @Test("a client already gone leases nothing, and a release only touches its own leases")
    func releaseIsFenced() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let first = try await harness.worker(name: "first")
            let second = try await harness.worker(name: "second")
            let queue = harness.services.queue
            let engine = LeaseEngine(
                queue: queue, wakeup: harness.services.wakeup, policy: LeasePolicy(), logger: TestDatabase.defaultLogger
            )
            let gone = ClientConnection()
            gone.markClosed()
            let none = try await engine.lease(
                worker: first.workerID, memoryBytes: 8 << 30, gpus: 0, max: 1, wait: 5, client: gone)
            #expect(none.isEmpty)

            let lease = try #require(
                try await queue.lease(worker: first.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0).first)
            // Another worker's release, or one with a stale lease id, changes nothing.
            #expect(try await queue.release([lease], worker: second.workerID) == 0)
            var stale = lease
            stale.leaseID = UUID()
            #expect(try await queue.release([stale], worker: first.workerID) == 0)
            #expect(try await queue.release([lease], worker: first.workerID) == 1)
            #expect(try await queue.release([lease], worker: first.workerID) == 0, "twice is once")
        }
    }

    static func leaseRequest(token: String, wait: Double) throws -> TestClient.Request {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/json"
        return TestClient.Request(
            "/v1/leases", method: .post, authority: "localhost", headers: headers,
            body: ByteBuffer(bytes: try WireCoding.encoder().encode(LeaseRequest(max: 1, wait: wait))))
    }

    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        // Long: at load average 30 (other builds on 2 cores), four requests took over 20 s to be in place.
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting until \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
