import Logging
import ServiceLifecycle

/// The loop of a background pass (reliability, adaptive looks, queue gauges): wait for the schema, then run
/// the pass until graceful shutdown, at most once per `interval`.
///
/// With a `nudge`, a pass that succeeded is followed by a wait for the nudge or for `idleInterval`,
/// whichever comes first (issue 10, part 4: an idle coordinator does not pass every second); the generation is
/// read before the pass, so a nudge during it brings another. A failed pass (the database crashed or is
/// restarting) is logged and retried after `interval`, nudged or not: every database call has a deadline, so
/// no pass can hang.
struct MaintenanceLoop: Sendable {
    let interval: Duration
    var nudge: TaskWakeup? = nil
    var idleInterval: Duration = .seconds(30)
    let gate: Gate

    /// Runs `pass` until graceful shutdown; a failed pass is logged as `failure` at `level`, with the error.
    func run(
        failure: Logger.Message, level: Logger.Level = .warning, logger: Logger,
        _ pass: @escaping @Sendable () async throws -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            while !Task.isCancelled {
                let generation = nudge?.generation
                var passed = false
                do {
                    try await pass()
                    passed = true
                } catch {
                    if Task.isCancelled { break }
                    logger.log(level: level, failure, metadata: ["repro.error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
                if passed, let nudge, let generation, idleInterval > interval {
                    await nudge.wait(after: generation, timeout: idleInterval - interval)
                }
            }
        }
    }
}
