import Logging
import ServiceLifecycle

/// Holds one `LISTEN repro_tasks` connection and turns each notification into a ``TaskWakeup`` signal.
/// When the connection drops (database restart) it reconnects, and signals once on reconnecting,
/// since a notification may have been missed in between.
///
/// Connecting and starting to listen run under the database deadline (``DatabaseClient/listen(on:onEvent:)``),
/// so a connection the library lost track of during a crash cannot stall the listener: every
/// failure ends in a retry with back-off, for as long as the coordinator runs.
public struct NotificationListener: Service {
    let database: DatabaseClient
    let wakeup: TaskWakeup
    let logger: Logger
    let gate: Gate

    /// Creates the listener; it connects once `gate` opens.
    public init(database: DatabaseClient, wakeup: TaskWakeup, gate: Gate, logger: Logger) {
        self.database = database
        self.wakeup = wakeup
        self.gate = gate
        self.logger = logger
    }

    /// Listens until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            var failures = 0
            while !Task.isCancelled {
                let started = ContinuousClock.now
                do {
                    try await database.listen(on: TaskWakeup.channel) {
                        wakeup.signal()
                    }
                    failures = 0
                } catch {
                    if Task.isCancelled { break }
                    // A session that held for a while was a success: back off from the start again.
                    if ContinuousClock.now - started > .seconds(10) { failures = 0 }
                    failures += 1
                    logger.warning(
                        "task notifications lost; reconnecting",
                        metadata: ["repro.error": "\(error)", "repro.attempt": "\(failures)"])
                }
                try? await Task.sleep(for: .milliseconds(min(5_000, 200 * (1 << min(failures, 5)))))
            }
        }
    }
}
