import Foundation
import Logging
import ReproCore
import ServiceLifecycle

/// Long-polling lease requests: try the lease statement; when nothing fits, sleep on the in-memory
/// ``TaskWakeup`` (never on a database poll) until a notification arrives or the wait runs out.
///
/// A waiting request also ends when its client goes (``ClientConnection``) or the coordinator starts
/// shutting down. A client that is gone leases nothing, and tasks leased for a client that went
/// while the statement ran are handed back at once (issue 10, part 2): otherwise each would sit
/// leased to nobody until its TTL ran out and the reaper came by, with an attempt burnt.
public struct LeaseEngine: Sendable {
    let queue: TaskQueue
    let wakeup: TaskWakeup
    let policy: LeasePolicy
    let logger: Logger

    /// Creates the engine.
    public init(queue: TaskQueue, wakeup: TaskWakeup, policy: LeasePolicy, logger: Logger) {
        self.queue = queue
        self.wakeup = wakeup
        self.policy = policy
        self.logger = logger
    }

    /// Leases up to `max` tasks for `worker`, waiting up to `wait` seconds for some to appear; tasks
    /// that need the network only when `allowNetwork`. `client` is the HTTP connection the answer
    /// goes to, when the server can watch it. `admit` (the quarantine check) throws the answer for a
    /// worker that may not lease. The lease statement itself leases nothing to such a worker, so `admit`
    /// runs only to say why: once, after the request's first lease statement that found nothing (and
    /// before a resend), not at all when the request makes none or leases something. `held`, when the
    /// worker sends it, lists the leases it holds: its others were lost in transit and are answered
    /// first (decision 0016).
    ///
    /// Waits in this call; a request served by ``RequestTaskResponder`` uses
    /// ``look(worker:memoryBytes:gpus:allowNetwork:max:wait:held:client:after:admit:)`` and waits outside
    /// its task instead (decision 0019).
    public func lease(
        worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool = false, max: Int, wait: Double,
        held: [UUID]? = nil, client: ClientConnection? = nil, admit: (@Sendable () async throws -> Void)? = nil
    ) async throws -> [TaskLease] {
        // Nothing takes the wait here, so the poll always ends with an answer.
        try await LeaseLook.poll(from: nil, client: client, park: { _ in false }) { previous in
            try await look(
                worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork, max: max, wait: wait,
                held: held, client: client, after: previous, admit: admit)
        } ?? []
    }

    /// One step of ``lease(worker:memoryBytes:gpus:allowNetwork:max:wait:held:client:admit:)``: the
    /// leases, or the wait to sleep before calling again with it as `previous` (same arguments). The first
    /// call (`previous` nil) resends held leases and starts the wait's clock; a call after a wait that no
    /// signal ended, or that ended because the client went or the coordinator is stopping, answers none
    /// without a statement.
    public func look(
        worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool = false, max: Int, wait: Double,
        held: [UUID]? = nil, client: ClientConnection? = nil, after previous: LongPollWait? = nil,
        admit: (@Sendable () async throws -> Void)? = nil
    ) async throws -> LeaseLook {
        // Opens when the client goes or the coordinator shuts down: either way the wait is over.
        let stop = Gate()
        let onClose = client?.onClose { stop.open() }
        defer { if let onClose { client?.removeHandler(onClose) } }
        let outcome = try await withGracefulShutdownHandler { () async throws -> LeaseLook in
            if let previous {
                // The client went (nobody would read the answer) or the coordinator is stopping (the
                // worker will ask another): lease nothing more.
                if stop.isOpen { return .leases([]) }
                // No signal while waiting means nothing was queued, requeued or became due since the
                // statement before the wait found nothing (every such change notifies, and the LISTEN
                // connection signals when it reconnects, as it may have missed some): looking again would
                // find nothing too, so an idle long-poll ends without a second statement (issue 10, part 4).
                // A look that met only locked rows is made again whatever the signal says.
                if wakeup.generation == previous.generation && previous.lockedLooks == 0 { return .leases([]) }
                if previous.lockedLooks == 0 { CoordinatorMetrics.leaseWokenUp() }
                return try await lookOnce(
                    worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork, max: max,
                    deadline: previous.deadline, client: client, stop: stop,
                    admit: previous.admitted ? nil : admit, lockedLooks: previous.lockedLooks)
            }
            let deadline = ContinuousClock.now + .milliseconds(Int(min(wait, policy.maxWaitSeconds) * 1000))
            if let held {
                // Before anything new: these are the worker's already, with an attempt spent on each.
                try await admit?()
                let resent = try await queue.resend(worker: worker, held: held, max: max)
                if !resent.isEmpty {
                    if client?.isClosed == true {
                        try await handBack(resent, worker: worker)
                        return .leases([])
                    }
                    return .leases(resent)
                }
            }
            return try await lookOnce(
                worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork, max: max,
                deadline: deadline, client: client, stop: stop, admit: held == nil ? admit : nil)
        } onGracefulShutdown: {
            stop.open()
        }
        if case .leases(let leases) = outcome { CoordinatorMetrics.leaseAnswered(tasks: leases.count) }
        return outcome
    }

    /// One lease statement, unless this worker's last empty look still holds; then the answer, or the wait.
    /// `admit` nil means the quarantine check has run already (or is not wanted).
    private func lookOnce(
        worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool, max: Int, deadline: ContinuousClock.Instant,
        client: ClientConnection?, stop: Gate, admit: (@Sendable () async throws -> Void)?, lockedLooks: Int = 0
    ) async throws -> LeaseLook {
        // The client went (nobody would read the answer) or the coordinator is stopping (the
        // worker will ask another): lease nothing more.
        if stop.isOpen { return .leases([]) }
        let looks = wakeup.emptyLooks
        let key = EmptyLooks.Key(worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork)
        // Read the generation before looking: a notification that arrives while the statement
        // runs changes it, so the wait after returns at once instead of missing it.
        let generation = wakeup.generation
        let stamp = looks.stamp(generation: generation)
        var admitted = admit == nil
        var metLocks = false
        // This worker already looked in vain and nothing was queued, requeued or became due since,
        // nor did the probe see the queue change: looking again would find nothing (issue 10, part 4).
        if !looks.isFresh(key, at: stamp) {
            let leases: [TaskLease]
            do {
                leases = try await queue.lease(
                    worker: worker, max: max, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork)
            } catch {
                looks.forget(key)
                throw error
            }
            if !leases.isEmpty {
                looks.forget(key)
                if client?.isClosed == true {
                    try await handBack(leases, worker: worker)
                    return .leases([])
                }
                return .leases(leases)
            }
            // Nothing for this worker: a quarantine (the statement's gate) is told now, not waited out.
            if !admitted {
                try await admit?()
                admitted = true
            }
            // Tasks that fit may have been passed over because other transactions held them locked, and
            // nobody notifies when those transactions leave them queued: such a look is not remembered,
            // and the request looks again shortly instead of waiting for a signal.
            do {
                if policy.retryLockedLooks {
                    metLocks = try await queue.fitsPastLocks(
                        worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork)
                }
            } catch {
                looks.forget(key)
                throw error
            }
            if !metLocks { looks.recordEmpty(key, at: stamp) }
        }
        if deadline - ContinuousClock.now <= .zero || Task.isCancelled { return .leases([]) }
        var wait = LongPollWait(wakeup: wakeup, generation: generation, deadline: deadline, admitted: admitted)
        if metLocks { wait.lockedLooks = lockedLooks + 1 }
        return .wait(wait)
    }

    /// Gives back leases whose answer has nobody to go to.
    func handBack(_ leases: [TaskLease], worker: UUID) async throws {
        let released = try await queue.release(leases, worker: worker)
        logger.notice(
            "client went before its leases were sent; tasks handed back",
            metadata: [
                "repro.worker.id": "\(worker)", "repro.tasks": "\(leases.map(\.taskID))",
                "repro.released": "\(released)",
            ])
    }
}
