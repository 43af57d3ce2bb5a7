import Logging
import PostgresNIO
import ServiceLifecycle

/// Returns expired leases to the queue (or fails tasks that used their last attempt) every few
/// seconds. Every coordinator replica runs one: the statement locks rows with SKIP LOCKED, so two
/// reapers never touch the same task.
public struct Reaper: Service {
    let queue: TaskQueue
    let policy: LeasePolicy
    let logger: Logger
    let gate: Gate

    /// Creates the reaper; it starts once `gate` opens (schema up to date).
    public init(queue: TaskQueue, policy: LeasePolicy, gate: Gate, logger: Logger) {
        self.queue = queue
        self.policy = policy
        self.gate = gate
        self.logger = logger
    }

    /// Reaps until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            while !Task.isCancelled {
                do {
                    let outcome = try await queue.reapExpiredLeases(tick: policy.reaperIntervalSeconds)
                    CoordinatorMetrics.reaped(requeued: outcome.requeued, failed: outcome.failed)
                    if outcome.requeued + outcome.failed > 0 {
                        logger.info(
                            "expired leases reaped",
                            metadata: ["repro.requeued": "\(outcome.requeued)", "repro.failed": "\(outcome.failed)"])
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("reaper pass failed; will retry", metadata: ["repro.error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(Int(policy.reaperIntervalSeconds * 1000)))
            }
        }
    }
}
