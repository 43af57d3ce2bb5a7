import Logging
import ServiceLifecycle

/// Takes the looks of adaptive studies (decision 0015): when all tasks of a dataset's seeds so far have ended,
/// it judges the dataset's claims and adds the next step's tasks or stops the dataset. Every coordinator
/// replica runs one; studies are claimed with SKIP LOCKED, so replicas share the work.
///
/// A pass runs when nudged (a request that may have ended tasks finished on this coordinator, the reaper
/// failed tasks), at most once a second, and otherwise every 30 s (``MaintenanceLoop``). What a pass needs is
/// in the database (`studies.adaptive_pending`, set by the statement that ended the tasks), so the first pass
/// after a restart takes every look a stopped coordinator left.
struct AdaptiveMaintainer: Service {
    let adaptive: AdaptiveRepository
    /// Passes when nudged: tasks may have ended. Signalled here when a pass completed a study, whose score and
    /// replicas are then due for the other maintainers.
    let loop: MaintenanceLoop
    let logger: Logger

    func run() async throws {
        await loop.run(failure: "adaptive look pass failed; will retry", logger: logger) { try await passOnce() }
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
        if completed { loop.nudge?.signal() }
    }
}
