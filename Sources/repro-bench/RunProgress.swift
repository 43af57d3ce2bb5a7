import Synchronization

/// Accepted tasks so far, shared by every simulated worker, and the instant the last one was accepted
/// (the end of the timed run, before the idle long polls are cancelled).
final class RunProgress: Sendable {
    let target: Int
    private let accepted = Atomic<Int>(0)
    private let completedAt = Mutex<ContinuousClock.Instant?>(nil)

    init(target: Int) { self.target = target }

    var isComplete: Bool { accepted.load(ordering: .acquiring) >= target }

    var acceptedCount: Int { accepted.load(ordering: .acquiring) }

    /// When the count reached the target; nil while the run goes on.
    var completionInstant: ContinuousClock.Instant? { completedAt.withLock { $0 } }

    func add(accepted count: Int) {
        let (_, total) = accepted.add(count, ordering: .acquiringAndReleasing)
        if total >= target, total - count < target {
            let now = ContinuousClock.now
            completedAt.withLock { $0 = now }
        }
    }
}
