import Foundation
import Logging
import ReproCore

/// Long-polling lease requests: try the lease statement; when nothing fits, sleep on the in-memory
/// ``TaskWakeup`` (never on a database poll) until a notification arrives or the wait runs out.
public struct LeaseEngine: Sendable {
    let queue: TaskQueue
    let wakeup: TaskWakeup
    let policy: LeasePolicy

    /// Creates the engine.
    public init(queue: TaskQueue, wakeup: TaskWakeup, policy: LeasePolicy) {
        self.queue = queue
        self.wakeup = wakeup
        self.policy = policy
    }

    /// Leases up to `max` tasks for `worker`, waiting up to `wait` seconds for some to appear; tasks
    /// that need the network only when `allowNetwork`.
    public func lease(worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool = false, max: Int, wait: Double)
        async throws -> [TaskLease]
    {
        let deadline = ContinuousClock.now + .milliseconds(Int(min(wait, policy.maxWaitSeconds) * 1000))
        while true {
            // Read the generation before looking: a notification that arrives while the statement
            // runs changes it, so the wait below returns at once instead of missing it.
            let generation = wakeup.generation
            let leases = try await queue.lease(
                worker: worker, max: max, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork)
            let remaining = deadline - ContinuousClock.now
            if !leases.isEmpty || remaining <= .zero || Task.isCancelled { return leases }
            await wakeup.wait(after: generation, timeout: remaining)
        }
    }
}
