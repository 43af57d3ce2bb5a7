import Foundation
import Synchronization

/// The in-memory signal long-polling lease requests wait on. It is fed by one `LISTEN` connection per
/// coordinator (``NotificationListener``), so a waiting request never polls the database: it sleeps
/// until a `NOTIFY` says tasks were inserted or requeued, or until its wait runs out.
public final class TaskWakeup: Sendable {
    /// The PostgreSQL channel that study submission, requeues and the reaper notify.
    public static let channel = "repro_tasks"

    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var signals: UInt64 = 0
    }

    private let state = Mutex(State())

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
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
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
    public func wait(after generation: UInt64, timeout: Duration, unless stop: Gate? = nil) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal(after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            if let stop { group.addTask { await stop.wait() } }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal(after generation: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
