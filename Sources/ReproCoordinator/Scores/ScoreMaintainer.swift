import Logging
import ServiceLifecycle

/// Keeps stored scores current. Triggers flag a preprint when one of its studies completes or is
/// cancelled or a run's acceptance changes; every coordinator replica runs one maintainer, and the
/// claim uses FOR UPDATE SKIP LOCKED, so replicas share the work without computing a preprint twice.
public struct ScoreMaintainer: Service {
    let scores: ScoreRepository
    let interval: Duration
    let gate: Gate
    let logger: Logger

    /// Creates the maintainer; it starts once `gate` opens (schema up to date).
    public init(scores: ScoreRepository, interval: Duration = .seconds(1), gate: Gate, logger: Logger) {
        self.scores = scores
        self.interval = interval
        self.gate = gate
        self.logger = logger
    }

    /// Recomputes stale scores until graceful shutdown.
    ///
    /// A pass that fails (the database crashed or is restarting) is only logged: every database call
    /// has a deadline, so no pass can hang, and the next pass starts `interval` later. Preprints a
    /// failed pass could not mark stale again are kept here and marked first on a later pass.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            var unmarked: Set<String> = []
            while !Task.isCancelled {
                do {
                    if !unmarked.isEmpty {
                        try await scores.markDirty(unmarked.sorted())
                        logger.info(
                            "preprints marked stale again after a failed pass",
                            metadata: ["repro.scores.preprints": "\(unmarked.count)"])
                        unmarked = []
                    }
                    let started = ContinuousClock.now
                    let changed = try await scores.recomputeDirty()
                    CoordinatorMetrics.scoresRecomputed(changed, duration: .now - started)
                    if changed > 0 {
                        logger.info("preprint scores updated", metadata: ["repro.scores.changed": "\(changed)"])
                    }
                } catch {
                    if let unfinished = error as? ScoreRepository.UnfinishedScores {
                        unmarked.formUnion(unfinished.preprints)
                    }
                    if Task.isCancelled { break }
                    logger.warning(
                        "score maintenance pass failed; will retry",
                        metadata: ["repro.error": "\(error)", "repro.scores.unmarked": "\(unmarked.count)"])
                }
                try? await Task.sleep(for: interval)
            }
            if !unmarked.isEmpty {
                logger.error(
                    "stopping with stale scores nobody will recompute until their preprints change again",
                    metadata: ["repro.scores.preprints": "\(unmarked.sorted().joined(separator: ","))"])
            }
        }
    }
}
