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
    public func lease(
        worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool = false, max: Int, wait: Double,
        held: [UUID]? = nil, client: ClientConnection? = nil, admit: (@Sendable () async throws -> Void)? = nil
    ) async throws -> [TaskLease] {
        // Opens when the client goes or the coordinator shuts down: either way the wait is over.
        let stop = Gate()
        let onClose = client?.onClose { stop.open() }
        defer { if let onClose { client?.removeHandler(onClose) } }
        let leases = try await withGracefulShutdownHandler { () async throws -> [TaskLease] in
            if let held {
                // Before anything new: these are the worker's already, with an attempt spent on each.
                try await admit?()
                let resent = try await queue.resend(worker: worker, held: held, max: max)
                if !resent.isEmpty {
                    if client?.isClosed == true {
                        try await handBack(resent, worker: worker)
                        return []
                    }
                    return resent
                }
            }
            return try await leaseOrWait(
                worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork, max: max, wait: wait,
                client: client, stop: stop, admit: held == nil ? admit : nil)
        } onGracefulShutdown: {
            stop.open()
        }
        CoordinatorMetrics.leaseAnswered(tasks: leases.count)
        return leases
    }

    private func leaseOrWait(
        worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool, max: Int, wait: Double,
        client: ClientConnection?, stop: Gate, admit: (@Sendable () async throws -> Void)?
    ) async throws -> [TaskLease] {
        let deadline = ContinuousClock.now + .milliseconds(Int(min(wait, policy.maxWaitSeconds) * 1000))
        let looks = wakeup.emptyLooks
        let key = EmptyLooks.Key(worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork)
        var admitted = admit == nil
        while true {
            // The client went (nobody would read the answer) or the coordinator is stopping (the
            // worker will ask another): lease nothing more.
            if stop.isOpen { return [] }
            // Read the generation before looking: a notification that arrives while the statement
            // runs changes it, so the wait below returns at once instead of missing it.
            let generation = wakeup.generation
            let stamp = looks.stamp(generation: generation)
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
                        return []
                    }
                    return leases
                }
                // Nothing for this worker: a quarantine (the statement's gate) is told now, not waited out.
                if !admitted {
                    try await admit?()
                    admitted = true
                }
                looks.recordEmpty(key, at: stamp)
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero || Task.isCancelled { return [] }
            CoordinatorMetrics.longPollWaiting(1)
            await wakeup.wait(after: generation, timeout: remaining, unless: stop)
            CoordinatorMetrics.longPollWaiting(-1)
            // No signal while waiting means nothing was queued, requeued or became due since the
            // statement above found nothing (every such change notifies, and the LISTEN connection
            // signals when it reconnects, as it may have missed some): looking again would find
            // nothing too, so an idle long-poll ends without a second statement (issue 10, part 4).
            if wakeup.generation == generation { return [] }
            CoordinatorMetrics.leaseWokenUp()
        }
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
