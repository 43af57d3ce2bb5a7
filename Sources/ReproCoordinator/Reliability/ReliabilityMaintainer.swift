import Logging
import ServiceLifecycle

/// Judges the replicas of completed studies and applies the automatic quarantine rule. Every coordinator
/// replica runs one; studies are claimed with SKIP LOCKED, so replicas share the work.
struct ReliabilityMaintainer: Service {
    let reliability: ReliabilityRepository
    let quarantines: QuarantineRepository
    let rule: AutomaticQuarantineRule?
    let interval: Duration
    /// Signalled when studies may have completed (results, the reaper) and signalled here after an
    /// automatic quarantine (it changes scores); nil: a pass every `interval`, as before.
    var nudge: TaskWakeup? = nil
    /// Between passes when not nudged (issue 10, part 4: an idle coordinator no longer looks every second).
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
                    logger.warning("reliability pass failed; will retry", metadata: ["repro.error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
                if passed, let nudge, let generation, idleInterval > interval {
                    await nudge.wait(after: generation, timeout: idleInterval - interval)
                }
            }
        }
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
                    nudge?.signal()
                } catch let problem as Problem where problem.status == .conflict {
                    // Another replica quarantined it first.
                }
            }
        }
    }
}
