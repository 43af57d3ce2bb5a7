import Foundation
import Hummingbird
import HummingbirdTesting
import ReproCore
import Synchronization
import Testing

@testable import ReproCoordinator

/// Decision 0019: a long-poll parks its wait with ``RequestTaskResponder`` and is answered by the pass
/// through the router after the wait, with the same middleware as any other answer.
@Suite("Parked long-polls", .serialized)
struct ParkedLongPollTests {
    /// What the route's second pass does.
    enum Then: String, Sendable {
        case answer, databaseDown, refuse, parkAgain
    }

    /// Passes through the route so far.
    final class Passes: Sendable {
        let count = Mutex(0)
    }

    /// A router with the coordinator's outer middleware and one route that parks once (twice for
    /// `parkAgain`), then does `then`; returns the app and its count of passes.
    static func app(
        route: String, then: Then, woken: TaskWakeup? = nil, wait: Duration = .milliseconds(100)
    ) -> (some ApplicationProtocol, Passes) {
        let passes = Passes()
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ProblemMiddleware<AppRequestContext>())
        router.add(middleware: DatabaseBudgetMiddleware(budget: .seconds(10)))
        let wakeup = woken ?? TaskWakeup()
        router.post(RouterPath(route)) { _, context -> Response in
            let pass = passes.count.withLock { count in
                count += 1
                return count
            }
            let resumed = context.longPoll.resumed
            #expect((resumed == nil) == (pass == 1), "only the passes after a wait see its state")
            // One budget for all passes of the request.
            let budget = try #require(DatabaseBudget.current)
            if pass == 1 {
                budget.spend(.seconds(1))
            } else {
                #expect(throws: Never.self) { try budget.limit(cap: .seconds(10)) }
                #expect((try? budget.limit(cap: .seconds(10))) == .seconds(9), "the first pass's budget, not a new one")
            }
            if pass == 1 || (then == .parkAgain && pass == 2) {
                let wait = LongPollWait(
                    wakeup: wakeup, generation: wakeup.generation, deadline: .now + wait, admitted: true)
                #expect(context.longPoll.park(wait, state: then.rawValue, client: nil))
                return Response(status: .accepted)
            }
            #expect(resumed?.state as? String == then.rawValue)
            switch then {
            case .answer, .parkAgain:
                let woke = wakeup.generation != resumed?.wait.generation
                let text = woke ? "woken \(pass)" : "pass \(pass)"
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
            case .databaseDown:
                throw DatabaseUnavailable(.connectionLost, underlying: CancellationError())
            case .refuse:
                throw Problem.forbidden("This worker is quarantined and gets no tasks: test.")
            }
        }
        let app = Application(responder: RequestTaskResponder(inner: router.buildResponder()))
        return (app, passes)
    }

    /// Requests counted for `route` with `status`.
    static func requests(_ route: String, status: Int) -> Double {
        CoordinatorMetricsTests.value("reprogrid_http_requests_total", #"route="\#(route)""#, #"status="\#(status)""#)
    }

    @Test("the answer is the pass's after the wait; the parked pass's placeholder is neither sent nor counted")
    func answeredAfterTheWait() async throws {
        let route = "/parked-\(UUID().uuidString.prefix(8))"
        let (app, passes) = Self.app(route: route, then: .answer)
        try await app.test(.router) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: route, method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "pass 2")
            }
            #expect(ContinuousClock.now - started >= .milliseconds(100), "the wait was slept")
        }
        #expect(passes.count.withLock { $0 } == 2)
        #expect(Self.requests(route, status: 200) == 1)
        #expect(Self.requests(route, status: 202) == 0)
    }

    @Test("a request may park more than once")
    func parksTwice() async throws {
        let route = "/parked-\(UUID().uuidString.prefix(8))"
        let (app, passes) = Self.app(route: route, then: .parkAgain)
        try await app.test(.router) { client in
            try await client.execute(uri: route, method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "pass 3")
            }
        }
        #expect(passes.count.withLock { $0 } == 3)
    }

    @Test("a signal during the parked wait ends it early, and the next pass sees it")
    func wokenEarly() async throws {
        let route = "/parked-\(UUID().uuidString.prefix(8))"
        let wakeup = TaskWakeup()
        // A wait far longer than the signal needs: with 100 ms the loaded full suite once ran out the wait
        // before the signalling task saw the request waiting ("pass 2"). A lost signal still fails, late.
        let (app, _) = Self.app(route: route, then: .answer, woken: wakeup, wait: .seconds(30))
        try await app.test(.router) { client in
            // Stops when the answer is in, whether or not it saw the request wait: a wait that ran out first
            // left this loop polling for ever, and the suite hung after the failed expectation.
            let signal = Task {
                while wakeup.waitingCount == 0, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                wakeup.signal()
            }
            try await client.execute(uri: route, method: .post) { response in
                #expect(String(buffer: response.body) == "woken 2")
            }
            signal.cancel()
            await signal.value
        }
    }

    @Test("a database failure found after the wait is a 503 problem document with Retry-After")
    func databaseFailureAfterTheWait() async throws {
        let route = "/parked-\(UUID().uuidString.prefix(8))"
        let (app, _) = Self.app(route: route, then: .databaseDown)
        try await app.test(.router) { client in
            try await client.execute(uri: route, method: .post) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "\(DatabaseUnavailable.retryAfterSeconds)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
        #expect(Self.requests(route, status: 503) == 1)
    }

    @Test("a refusal found after the wait reaches the client as its problem document")
    func refusalAfterTheWait() async throws {
        let route = "/parked-\(UUID().uuidString.prefix(8))"
        let (app, _) = Self.app(route: route, then: .refuse)
        try await app.test(.router) { client in
            try await client.execute(uri: route, method: .post) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("quarantined"))
            }
        }
    }

    @Test("without the responder a handler cannot park, and waits in place")
    func noResponderNoParking() {
        let slot = LongPollSlot()
        let wakeup = TaskWakeup()
        let wait = LongPollWait(wakeup: wakeup, generation: 0, deadline: .now, admitted: true)
        #expect(!slot.park(wait, state: "x", client: nil))
        #expect(!slot.isParked)
    }
    /// Waits until `count` requests sleep on the coordinator's wake-up signal.
    static func waitForSleepers(_ wakeup: TaskWakeup, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while wakeup.waitingCount < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(wakeup.waitingCount == count, "the long-poll sleeps")
    }

    @Test("POST /v1/leases sleeps parked and is answered with the task a submission queues meanwhile")
    func leaseWokenOverHTTP() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker(name: "parked")
            let poll = Task { () -> LeaseResponse in
                try await harness.call(.post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 20))
            }
            try await Self.waitForSleepers(harness.services.wakeup, 1)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let answer = try await poll.value
            #expect(answer.leases.count == 1)
            #expect(harness.services.wakeup.waitingCount == 0)
        }
    }

    /// ``EmptyLookTests`` "a task another transaction held locked …" over a real socket, where the wait sleeps
    /// parked in the connection's task (``LongPollWait/sleepParked(client:)``); with the check off the poll
    /// waits out its 3 s and leases nothing.
    @Test(
        "over a real socket, a parked POST /v1/leases gets a task another transaction held locked and left queued, without a signal",
        arguments: [true, false])
    func lockedRowsOverHTTP(checked: Bool) async throws {
        var policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.05, reaperIntervalSeconds: 3600)
        policy.retryLockedLooks = checked
        try await CoordinatorHarness.run(policy: policy, testing: .live) { harness in
            try await EmptyLookTests.waitForSignals(harness, 1)  // the LISTEN connection is up
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker(name: "parked")
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            try await EmptyLookTests.waitForSignals(harness, 2)
            let signals = harness.services.wakeup.signalCount
            let lock = try await RowLock.hold(harness, "SELECT id FROM tasks WHERE state = 'queued' FOR UPDATE")
            let request = LeaseRequest(max: 1, wait: checked ? 20 : 3)
            let poll = Task { () -> LeaseResponse in
                try await harness.call(.post, "/v1/leases", key: worker.token, json: request)
            }
            try await Self.waitForSleepers(harness.services.wakeup, 1)
            try await lock.release()
            let answer = try await poll.value
            #expect(harness.services.wakeup.signalCount == signals, "no signal ended the poll")
            #expect(answer.leases.count == (checked ? 1 : 0))
        }
    }

    @Test("a cycle records its results, sleeps parked, and answers their receipts with the task found after the wait")
    func cycleWokenOverHTTP() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let worker = try await harness.worker(name: "cycler")
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let first: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(first.leases.first)
            let cycle = Task { () -> CycleResponse in
                try await harness.call(
                    .post, "/v1/leases/cycle", key: worker.token,
                    json: CycleRequest(results: [LeaseLifecycleTests.result(lease)], max: 1, wait: 20))
            }
            try await Self.waitForSleepers(harness.services.wakeup, 1)
            _ = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["wine"], seeds: 1), key: researcher)
            let answer = try await cycle.value
            #expect(answer.results.map(\.status) == [.accepted], "the first pass's receipts")
            #expect(answer.lease.leases.count == 1)
            #expect(answer.lease.leases.first?.taskID != lease.taskID)
        }
    }
}
