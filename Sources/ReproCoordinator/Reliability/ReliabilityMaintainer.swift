import Logging
import ServiceLifecycle

/// Judges the replicas of completed studies and applies the automatic quarantine rule. Every coordinator
/// replica runs one; studies are claimed with SKIP LOCKED, so replicas share the work.
struct ReliabilityMaintainer: Service {
    let reliability: ReliabilityRepository
    let quarantines: QuarantineRepository
    let rule: AutomaticQuarantineRule?
    /// Passes when nudged: studies may have completed (results, the reaper, adaptive looks); it is signalled
    /// here after an automatic quarantine (it changes scores).
    let loop: MaintenanceLoop
    let logger: Logger

    func run() async throws {
        await loop.run(failure: "reliability pass failed; will retry", logger: logger) { try await passOnce() }
    }

    /// Evaluates every pending study, then quarantines workers the rule condemns. The quarantine is its own
    /// transaction, after the evaluation committed: it locks tasks, which must come before any study lock.
    func passOnce() async throws {
        while let evaluated = try await reliability.evaluateNextPending() {
            if evaluated.checks > 0 {
                logger.info(
                    "replicas checked",
                    metadata: [
                        "repro.study.id": "\(evaluated.study)", "repro.reliability.checks": "\(evaluated.checks)",
                    ])
            }
            guard let rule else { continue }
            for (worker, counters) in evaluated.counters.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                guard let reason = rule.verdict(agreeing: counters.agreeing, disagreeing: counters.disagreeing),
                    try await quarantines.quarantineReason(worker: worker) == nil
                else { continue }
                do {
                    _ = try await quarantines.quarantine(.worker(worker), reason: reason, actor: nil)
                    // Its runs left the scores.
                    loop.nudge?.signal()
                } catch let problem as Problem where problem.status == .conflict {
                    // Another replica quarantined it first.
                }
            }
        }
    }
}
