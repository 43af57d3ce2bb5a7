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
    /// How many looks in a row found tasks for the worker only behind other transactions' row locks; 0 when
    /// the last look found none at all. Above 0 the wait is short (``lockedRetryDelay``) and the request
    /// looks again after it, signal or not.
    var lockedLooks = 0

    /// How long to wait before looking again past locks: 25 ms, doubling with each look in a row that met
    /// them, at most 1 s. Such locks last one transaction of another worker, milliseconds.
    static func lockedRetryDelay(after looks: Int) -> Duration {
        .milliseconds(min(1000, 25 << min(max(looks - 1, 0), 6)))
    }

    /// How long to sleep from now: until the deadline, or shortly after a look that met locked rows.
    private func remaining() -> Duration {
        let remaining = deadline - ContinuousClock.now
        return lockedLooks > 0 ? min(remaining, Self.lockedRetryDelay(after: lockedLooks)) : remaining
    }

    /// Returns when a signal came after the look, the wait ran out, the client went (`client`, when the
    /// server watches it), the coordinator started shutting down, or the task was cancelled.
    public func sleep(client: ClientConnection?) async {
        let stop = Gate()
        let onClose = client?.onClose { stop.open() }
        defer { if let onClose { client?.removeHandler(onClose) } }
        CoordinatorMetrics.longPollWaiting(1)
        defer { CoordinatorMetrics.longPollWaiting(-1) }
        let remaining = remaining()
        await withGracefulShutdownHandler {
            await wakeup.wait(after: generation, timeout: remaining, unless: stop)
        } onGracefulShutdown: {
            stop.open()
        }
    }

    /// ``sleep(client:)`` for a wait parked with ``RequestTaskResponder`` (decision 0019): one continuation
    /// and no async wrapper around it, as every frame of the wait stays in the connection's task for good
    /// (issue 10, part 4). The client's connection says when the client goes or the server starts shutting
    /// down; a cancelled connection task closes the connection's input (Hummingbird's `handleHTTP`), which
    /// ends the wait as the client's going does.
    func sleepParked(client: ClientConnection) async {
        CoordinatorMetrics.longPollWaiting(1)
        let remaining = remaining()
        await withCheckedContinuation { continuation in
            wakeup.enqueue(continuation, after: generation, timeout: remaining, stop: .client(client))
        }
        CoordinatorMetrics.longPollWaiting(-1)
    }
}

/// What one look at the queue came to for a long-poll.
public enum LeaseLook: Sendable {
    /// The answer: the leases, or none when the wait is over with nothing for the worker.
    case leases([TaskLease])
    /// Nothing yet and time left: sleep (``LongPollWait/sleep(client:)``), then look again with it.
    case wait(LongPollWait)
}

extension LeaseLook {
    /// Looks until there is an answer, sleeping between looks: the one loop of every long-poll. Returns nil
    /// as soon as `park` takes a wait (``LongPollSlot``, decision 0019): whoever took it sleeps and calls
    /// again with it as `resumed`. `look` gets the wait it comes after, nil on the first look.
    static func poll(
        from resumed: LongPollWait?, client: ClientConnection?, park: (LongPollWait) -> Bool,
        look: (LongPollWait?) async throws -> LeaseLook
    ) async throws -> [TaskLease]? {
        var outcome = try await look(resumed)
        while true {
            switch outcome {
            case .leases(let leases): return leases
            case .wait(let wait):
                if park(wait) { return nil }
                await wait.sleep(client: client)
                outcome = try await look(wait)
            }
        }
    }
}
