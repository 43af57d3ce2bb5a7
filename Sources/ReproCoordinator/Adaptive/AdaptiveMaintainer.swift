import Logging
import ServiceLifecycle

/// Takes the looks of adaptive studies (decision 0015): when all tasks of a dataset's seeds so far have ended,
/// it judges the dataset's claims and adds the next step's tasks or stops the dataset. Every coordinator
/// replica runs one; studies are claimed with SKIP LOCKED, so replicas share the work.
///
/// A pass runs when nudged (a request that may have ended tasks finished on this coordinator, the reaper
/// failed tasks), at most once per `interval`, and otherwise once per `idleInterval`. What a pass needs is
/// in the database (`studies.adaptive_pending`, set by the statement that ended the tasks), so the first pass
/// after a restart takes every look a stopped coordinator left.
struct AdaptiveMaintainer: Service {
    let adaptive: AdaptiveRepository
    let interval: Duration
    /// Signalled when tasks may have ended; signalled here when a pass completed a study, whose score and
    /// replicas are then due for the other maintainers.
    var nudge: TaskWakeup? = nil
    var idleInterval: Duration = .seconds(30)
    let gate: Gate
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            while !Task.isCancelled {
                let generation = nudge?.generation
                var passed = false
                do {
                    try await passOnce()
                    passed = true
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("adaptive look pass failed; will retry", metadata: ["repro.error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
                if passed, let nudge, let generation, idleInterval > interval {
                    await nudge.wait(after: generation, timeout: idleInterval - interval)
                }
            }
        }
    }

    /// Takes the due looks of every marked study, one study per transaction.
    func passOnce() async throws {
        var completed = false
        while let outcome = try await adaptive.lookAtNextPending() {
            for look in outcome.looks {
                logger.info(
                    look.nextSeeds == nil ? "adaptive dataset stopped" : "adaptive dataset grows",
                    metadata: [
                        "repro.study.id": "\(outcome.study)", "repro.dataset": "\(look.dataset)",
                        "repro.adaptive.seeds": "\(look.seeds)",
                        "repro.adaptive.next_seeds": "\(look.nextSeeds.map(String.init) ?? "-")",
                        "repro.adaptive.stop_reason": "\(look.stopReason?.rawValue ?? "-")",
                    ])
            }
            if outcome.completed {
                logger.info("adaptive study completed", metadata: ["repro.study.id": "\(outcome.study)"])
            }
            completed = completed || outcome.completed
        }
        if completed { nudge?.signal() }
    }
}
