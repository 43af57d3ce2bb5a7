import Foundation
import Synchronization

/// A one-way signal: closed until ``open()``, then open for good. Waiting ends when it opens, or
/// early on cancellation (so a start-up that fails still shuts down).
///
/// Background services wait on one until the database schema is up to date, so they never query
/// tables that the migrations have not created yet; a long-poll waits on one that opens when its
/// client goes or the coordinator starts shutting down.
public final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
        var handlers: [UUID: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Creates a closed gate.
    public init() {}

    /// Whether the gate has opened.
    public var isOpen: Bool { state.withLock { $0.open } }

    /// Opens the gate and releases every waiter.
    public func open() {
        let (waiters, handlers) = state.withLock { state in
            state.open = true
            defer {
                state.waiters.removeAll()
                state.handlers.removeAll()
            }
            return (Array(state.waiters.values), Array(state.handlers.values))
        }
        waiters.forEach { $0.resume() }
        handlers.forEach { $0() }
    }

    /// Calls `handler` once when the gate opens, at once if it is open; returns a token for
    /// ``removeHandler(_:)``, nil when it was called at once. Costs no task, unlike ``wait()``.
    func onOpen(_ handler: @escaping @Sendable () -> Void) -> UUID? {
        let token = state.withLock { state -> UUID? in
            guard !state.open else { return nil }
            let id = UUID()
            state.handlers[id] = handler
            return id
        }
        if token == nil { handler() }
        return token
    }

    /// Forgets a handler that is no longer needed.
    func removeHandler(_ token: UUID) {
        _ = state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// Returns once the gate is open or the task is cancelled.
    public func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.open || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
