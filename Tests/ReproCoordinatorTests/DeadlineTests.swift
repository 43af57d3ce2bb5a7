import Synchronization
import Testing

@testable import ReproCoordinator

/// ``Deadline`` must answer in time even when the work under it never ends; the limits here are
/// short and the bounds generous, since only "ends" and "ends about when it should" matter.
@Suite("Deadline")
struct DeadlineTests {
    @Test("work that ends in time gives its result")
    func result() async throws {
        let value = try await Deadline(.seconds(5)).run { _ in 42 }
        #expect(value == 42)
    }

    @Test("work that throws in time gives its error")
    func error() async throws {
        struct Failure: Error {}
        await #expect(throws: Failure.self) {
            try await Deadline(.seconds(5)).run { _ in throw Failure() }
        }
    }

    @Test("work that never ends is abandoned at the limit, and onExpiry runs once")
    func neverEnding() async throws {
        let expiries = Mutex(0)
        let started = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await Deadline(.milliseconds(200)).run(onExpiry: { expiries.withLock { $0 += 1 } }) { _ in
                await Self.forever()
            }
        }
        // Work that never ends would never let this line run; the bound only says "about at the limit",
        // wide because a 2-core machine running the whole suite stalls for seconds at a time.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(expiries.withLock { $0 } == 1)
    }

    @Test("a cancelled caller stops waiting at once, even for work that ignores cancellation")
    func cancellation() async throws {
        let started = ContinuousClock.now
        let waiting = Task { try await Deadline(nil).run { _ in await Self.forever() } }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("disarmed, the limit no longer applies")
    func disarm() async throws {
        let value = try await Deadline(.milliseconds(100)).run { deadline in
            deadline.disarm()
            try await Task.sleep(for: .milliseconds(400))
            return "done"
        }
        #expect(value == "done")
    }

    /// Suspends for good, ignoring cancellation, as a future nobody completes does. The
    /// continuations are kept, so they are never reported as leaked.
    static func forever() async {
        await withCheckedContinuation { continuation in parked.withLock { $0.append(continuation) } }
    }

    static let parked = Mutex<[CheckedContinuation<Void, Never>]>([])
}
