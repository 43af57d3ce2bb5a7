import Logging
import ServiceLifecycle

/// Keeps stored scores current. Triggers flag a preprint when one of its studies completes or is
/// cancelled or a run's acceptance changes; every coordinator replica runs one maintainer, and the
/// claim uses FOR UPDATE SKIP LOCKED, so replicas share the work without computing a preprint twice.
public struct ScoreMaintainer: Service {
    let scores: ScoreRepository
    let interval: Duration
    let gate: StartupGate
    let logger: Logger

    /// Creates the maintainer; it starts once `gate` opens (schema up to date).
    public init(scores: ScoreRepository, interval: Duration = .seconds(1), gate: StartupGate, logger: Logger) {
        self.scores = scores
        self.interval = interval
        self.gate = gate
        self.logger = logger
    }

    /// Recomputes stale scores until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            while !Task.isCancelled {
                do {
                    let changed = try await scores.recomputeDirty()
                    if changed > 0 {
                        logger.info("preprint scores updated", metadata: ["repro.scores.changed": "\(changed)"])
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("score maintenance pass failed; will retry", metadata: ["repro.error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
