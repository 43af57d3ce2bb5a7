import Logging
import ServiceLifecycle

/// Keeps stored scores current. Triggers flag a preprint when one of its studies completes or is
/// cancelled or a run's acceptance changes; every coordinator replica runs one maintainer, and the
/// claim uses FOR UPDATE SKIP LOCKED, so replicas share the work without computing a preprint twice.
///
/// With a `nudge`, a pass runs when the nudge is signalled (a request that may change scores ended on
/// this coordinator, see ``MaintenanceNudgeMiddleware``, or the reaper failed tasks), at most once per
/// `interval`, and otherwise once per `idleInterval`: an idle coordinator no longer claims every
/// second (issue 10, part 4). The idle pass catches what no nudge announces here: changes made through
/// another coordinator that died before its own maintainer ran, or by hand in the database.
public struct ScoreMaintainer: Service {
    let scores: ScoreRepository
    let interval: Duration
    let nudge: TaskWakeup?
    let idleInterval: Duration
    let gate: Gate
    let logger: Logger

    /// Creates the maintainer; it starts once `gate` opens (schema up to date).
    public init(
        scores: ScoreRepository, interval: Duration = .seconds(1), nudge: TaskWakeup? = nil,
        idleInterval: Duration = .seconds(30), gate: Gate, logger: Logger
    ) {
        self.scores = scores
        self.interval = interval
        self.nudge = nudge
        self.idleInterval = idleInterval
        self.gate = gate
        self.logger = logger
    }

    /// A pass that claimed preprints and took d is followed by a pause of at least `pauseFactor` × d.
    static let pauseFactor = 9

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
                // Read before the pass: a nudge during the pass brings another one.
                let generation = nudge?.generation
                var passed = false
                var pause = interval
                do {
                    if !unmarked.isEmpty {
                        try await scores.markDirty(unmarked.sorted())
                        logger.info(
                            "preprints marked stale again after a failed pass",
                            metadata: ["repro.scores.preprints": "\(unmarked.count)"])
                        unmarked = []
                    }
                    let started = ContinuousClock.now
                    let (claimed, changed) = try await scores.recomputeDirtyCounted()
                    let took = ContinuousClock.now - started
                    CoordinatorMetrics.scoresRecomputed(changed, duration: took)
                    // A running study's results keep its preprint stale; a preprint with many runs takes long
                    // to recompute. At most a tenth of the time goes to recomputing (issue 16: a study of
                    // 20 000 runs was recomputed back to back, a quarter of a core of the database; a fifth
                    // still cost the batch-50 benchmark a tenth of its rate, decision 0021). A pass that
                    // claimed nothing recomputed nothing: however long its claim took on a busy server, the
                    // next nudge is served after `interval`, not after nine times that claim.
                    pause = claimed > 0 ? max(interval, took * Self.pauseFactor) : interval
                    if changed > 0 {
                        logger.info("preprint scores updated", metadata: ["repro.scores.changed": "\(changed)"])
                    }
                    passed = true
                } catch {
                    if let unfinished = error as? ScoreRepository.UnfinishedScores {
                        unmarked.formUnion(unfinished.preprints)
                    }
                    if Task.isCancelled { break }
                    logger.warning(
                        "score maintenance pass failed; will retry",
                        metadata: ["repro.error": "\(error)", "repro.scores.unmarked": "\(unmarked.count)"])
                }
                try? await Task.sleep(for: pause)
                // A failed pass is retried after `interval`, nudged or not.
                if passed, let nudge, let generation, idleInterval > interval {
                    await nudge.wait(after: generation, timeout: idleInterval - interval)
                }
            }
            if !unmarked.isEmpty {
                logger.error(
                    "stopping with stale scores nobody will recompute until their preprints change again",
                    metadata: ["repro.scores.preprints": "\(unmarked.sorted().joined(separator: ","))"])
            }
        }
    }
}
