import Foundation
import ReproClient
import ReproCore
import Synchronization

/// Requests sent throughout a chaos run and timed from the outside: a hung request is one that takes
/// longer than the coordinator's database deadline plus a margin, or is still waiting at the end.
///
/// Each loop sends one request at a time and records how it ended; any HTTP answer (200, 409, 503)
/// counts as an answer, since the promise under test is "every request ends", not "every request succeeds".
final class RequestProbe: Sendable {
    struct Tally: Sendable {
        var sent = 0
        var unavailable = 0
        var transportErrors = 0
        var slowest: Duration = .zero
        var hung = 0
    }

    private let threshold: Duration
    private let tally = Mutex(Tally())
    private let inFlight = Mutex([Int: ContinuousClock.Instant]())

    init(threshold: Duration) { self.threshold = threshold }

    /// Runs `request` in a loop, `pause` apart, until cancelled; `id` names the loop.
    func loop(id: Int, pause: Duration, _ request: @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            let start = ContinuousClock.now
            inFlight.withLock { $0[id] = start }
            var outcome: CoordinatorClientError?
            do {
                try await request()
            } catch let error as CoordinatorClientError {
                outcome = error
            } catch {
                outcome = .transport("\(error)")
            }
            // A request cut short by the end of the run says nothing about the coordinator.
            if Task.isCancelled { break }
            let elapsed = ContinuousClock.now - start
            inFlight.withLock { $0[id] = nil }
            tally.withLock { tally in
                tally.sent += 1
                tally.slowest = max(tally.slowest, elapsed)
                if elapsed > threshold { tally.hung += 1 }
                if outcome?.status == 503 { tally.unavailable += 1 }
                if case .transport = outcome { tally.transportErrors += 1 }
            }
            try? await Task.sleep(for: pause)
        }
    }

    /// The figures so far, counting a request still waiting past the threshold as hung. Call before
    /// cancelling the loops.
    func snapshot() -> Tally {
        let now = ContinuousClock.now
        let waiting = inFlight.withLock { $0.values.filter { now - $0 > threshold }.count }
        var figures = tally.withLock { $0 }
        figures.hung += waiting
        return figures
    }
}
