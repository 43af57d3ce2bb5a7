import ReproCore
import ServiceLifecycle

/// A long-poll's wait, as a value: what it waits for (a signal after `generation`), until when, and what
/// its request had already done. Whoever holds it can end the request's task and sleep with
/// ``sleep(client:)`` in a shallow frame (decision 0019); the request then looks again with it
/// (``LeaseEngine/look(worker:memoryBytes:gpus:allowNetwork:max:wait:held:client:after:admit:)``).
public struct LongPollWait: Sendable {
    let wakeup: TaskWakeup
    /// The wake-up generation read before the look that found nothing.
    let generation: UInt64
    /// When the worker's `wait` runs out.
    let deadline: ContinuousClock.Instant
    /// Whether the quarantine check already ran for this request (it runs once, after its first empty look).
    let admitted: Bool

    /// Returns when a signal came after the look, the wait ran out, the client went (`client`, when the
    /// server watches it), the coordinator started shutting down, or the task was cancelled.
    public func sleep(client: ClientConnection?) async {
        let stop = Gate()
        let onClose = client?.onClose { stop.open() }
        defer { if let onClose { client?.removeHandler(onClose) } }
        CoordinatorMetrics.longPollWaiting(1)
        defer { CoordinatorMetrics.longPollWaiting(-1) }
        let remaining = deadline - ContinuousClock.now
        await withGracefulShutdownHandler {
            await wakeup.wait(after: generation, timeout: remaining, unless: stop)
        } onGracefulShutdown: {
            stop.open()
        }
    }
}

/// What one look at the queue came to for a long-poll.
public enum LeaseLook: Sendable {
    /// The answer: the leases, or none when the wait is over with nothing for the worker.
    case leases([TaskLease])
    /// Nothing yet and time left: sleep (``LongPollWait/sleep(client:)``), then look again with it.
    case wait(LongPollWait)
}
