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
    /// Signalled when tasks failed for good or studies completed in the pass, which the score and
    /// reliability maintainers act on.
    let maintenance: TaskWakeup?

    /// Creates the reaper; it starts once `gate` opens (schema up to date).
    public init(queue: TaskQueue, policy: LeasePolicy, gate: Gate, maintenance: TaskWakeup? = nil, logger: Logger) {
        self.queue = queue
        self.policy = policy
        self.gate = gate
        self.maintenance = maintenance
        self.logger = logger
    }

    /// Reaps until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            var lastStart: ContinuousClock.Instant?
            while !Task.isCancelled {
                // "Backed-off tasks became due" looks back twice this far: since the last pass began,
                // however late this one is (a loaded machine, a failed pass), so none is missed. Idle
                // workers' remembered empty looks rely on that notification (EmptyLooks).
                let started = ContinuousClock.now
                var tick = policy.reaperIntervalSeconds
                if let lastStart {
                    let elapsed = started - lastStart
                    tick = max(tick, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
                do {
                    let outcome = try await queue.reapExpiredLeases(tick: tick)
                    lastStart = started
                    CoordinatorMetrics.reaped(requeued: outcome.requeued, failed: outcome.failed)
                    if outcome.failed + outcome.completed > 0 { maintenance?.signal() }
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
