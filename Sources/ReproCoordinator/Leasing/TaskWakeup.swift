import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The in-memory signal long-polling lease requests wait on. It is fed by one `LISTEN` connection per
/// coordinator (``NotificationListener``), so a waiting request never polls the database: it sleeps
/// until a `NOTIFY` says tasks were inserted or requeued, or until its wait runs out.
public final class TaskWakeup: Sendable {
    /// The PostgreSQL channel that study submission, requeues and the reaper notify.
    public static let channel = "repro_tasks"

    /// One waiting request: what resumes it, and what to undo once something did.
    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        var timer: Scheduled<Void>?
        var stop: (gate: Gate, token: UUID)?

        func resume() {
            timer?.cancel()
            if let stop { stop.gate.removeHandler(stop.token) }
            continuation.resume()
        }
    }

    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        var signals: UInt64 = 0
    }

    private let state = Mutex(State())

    /// The workers that looked for work in vain since the last signal: a notification makes their
    /// looks stale, since every change that can make a task leasable notifies (``EmptyLooks``).
    public let emptyLooks = EmptyLooks()

    /// Creates a signal.
    public init() {}

    /// Changes on every signal; read it before looking for work, then wait for it to change.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Number of signals received so far (tests use it to show the notification path woke a request).
    public var signalCount: UInt64 { state.withLock { $0.signals } }

    /// Number of requests waiting right now (tests wait for their pollers to be in place).
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Wakes every waiting request.
    public func signal() {
        let waiters = state.withLock { state -> [Waiter] in
            state.generation &+= 1
            state.signals &+= 1
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the generation differs from `generation`, after `timeout`, when `stop` opens,
    /// or on cancellation, whichever comes first; the caller reads the generation again to know which.
    ///
    /// A waiter is one continuation with a timer and a handler on `stop`, not a task group of three
    /// child tasks: with 10 000 idle workers waiting, every byte per waiter counts (issue 10, part 4).
    public func wait(after generation: UInt64, timeout: Duration, unless stop: Gate? = nil) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(continuation: continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                // Registered first, armed next: whatever fires first finds the continuation in place.
                // A timer of the event loops' (an entry in their queue of scheduled tasks), not a
                // Dispatch timer source per waiter, which cost ~2 KiB each (heaptrack, issue 10, part 4).
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(
                    in: .nanoseconds(Int64(Self.nanoseconds(timeout)))
                ) { [self] in resume(id) }
                let token = stop?.onOpen { [self] in resume(id) }
                let stillWaiting = state.withLock { state -> Bool in
                    guard state.waiters[id] != nil else { return false }
                    state.waiters[id]?.timer = timer
                    if let stop, let token { state.waiters[id]?.stop = (stop, token) }
                    return true
                }
                if !stillWaiting {
                    // Resumed while being armed: undo what the waiter did not get to hold.
                    timer.cancel()
                    if let stop, let token { stop.removeHandler(token) }
                }
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    private static func nanoseconds(_ duration: Duration) -> Int {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        return Int(min(seconds, 86_400)) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}
