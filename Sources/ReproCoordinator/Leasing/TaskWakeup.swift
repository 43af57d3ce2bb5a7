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

    /// What else ends a wait, and how to stop listening to it once something did.
    enum Stop: Sendable {
        case gate(Gate)
        case client(ClientConnection)

        /// Calls `handler` once when the stop comes; returns what ``forget(_:)`` needs.
        func listen(_ handler: @escaping @Sendable () -> Void) -> Listening? {
            switch self {
            case .gate(let gate): gate.onOpen(handler).map { .gate(gate, $0) }
            case .client(let client): client.onCloseOrShutdown(handler).map { .client(client, $0) }
            }
        }
    }

    enum Listening: Sendable {
        case gate(Gate, UUID)
        case client(ClientConnection, Int)

        func forget() {
            switch self {
            case .gate(let gate, let token): gate.removeHandler(token)
            case .client(let client, let token): client.removeHandler(token)
            }
        }
    }

    /// One waiting request: what resumes it, and what to undo once something did.
    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        var timer: Scheduled<Void>?
        var stop: Listening?

        func resume() {
            timer?.cancel()
            stop?.forget()
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
        let id = nextWaiter()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                enqueue(id, continuation, after: generation, timeout: timeout, stop: stop.map(Stop.gate))
            }
        } onCancel: {
            resume(id)
        }
    }

    /// Registers `continuation`, to be resumed when the generation differs from `generation`, after `timeout`,
    /// or when `stop` comes, whichever comes first (at once if the task is cancelled already). Lets a caller
    /// wait in its own frame, without the frames of ``wait(after:timeout:unless:)`` (decision 0019).
    func enqueue(
        _ continuation: CheckedContinuation<Void, Never>, after generation: UInt64, timeout: Duration, stop: Stop?
    ) {
        enqueue(nextWaiter(), continuation, after: generation, timeout: timeout, stop: stop)
    }

    private func nextWaiter() -> UInt64 {
        state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
    }

    private func enqueue(
        _ id: UInt64, _ continuation: CheckedContinuation<Void, Never>, after generation: UInt64, timeout: Duration,
        stop: Stop?
    ) {
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
        let listening = stop?.listen { [self] in resume(id) }
        let stillWaiting = state.withLock { state -> Bool in
            guard state.waiters[id] != nil else { return false }
            state.waiters[id]?.timer = timer
            state.waiters[id]?.stop = listening
            return true
        }
        if !stillWaiting {
            // Resumed while being armed: undo what the waiter did not get to hold.
            timer.cancel()
            listening?.forget()
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
