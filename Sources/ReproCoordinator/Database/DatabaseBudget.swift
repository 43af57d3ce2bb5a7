import Synchronization

/// How long one HTTP request may wait on the database in all, across its calls.
///
/// Each ``DatabaseClient`` call has its own deadline, but a request makes several (its key lookup,
/// then its work), so without a shared budget it could wait a multiple of the deadline. The budget
/// counts time spent inside database calls only: reading a slow upload or a long-poll's wait do not
/// use it up. ``DatabaseBudgetMiddleware`` gives each request one; background services have none,
/// so each of their calls gets the plain deadline.
public final class DatabaseBudget: Sendable {
    /// The budget of the request the current task serves; nil outside a request.
    @TaskLocal public static var current: DatabaseBudget?

    private let remaining: Mutex<Duration>

    /// A budget of `total` database time.
    public init(_ total: Duration) { remaining = Mutex(total) }

    /// The limit for the next call: `cap`, or less when less is left. Throws when nothing is left.
    func limit(cap: Duration) throws -> Duration {
        let left = remaining.withLock { $0 }
        guard left > .zero else {
            throw DatabaseUnavailable(.deadlineExceeded, underlying: DeadlineExceeded(limit: cap))
        }
        return min(cap, left)
    }

    /// Adds `extra` (``DatabaseClient/allowing(_:)``).
    func grant(_ extra: Duration) { remaining.withLock { $0 += extra } }

    /// Records time a call spent.
    func spend(_ elapsed: Duration) { remaining.withLock { $0 -= elapsed } }
}
