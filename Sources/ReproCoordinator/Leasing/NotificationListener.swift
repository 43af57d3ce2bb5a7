import Logging
import PostgresNIO
import ServiceLifecycle

/// Holds one `LISTEN repro_tasks` connection and turns each notification into a ``TaskWakeup`` signal.
/// When the connection drops (database restart) it reconnects, and signals once on reconnecting,
/// since a notification may have been missed in between.
public struct NotificationListener: Service {
    let client: PostgresClient
    let wakeup: TaskWakeup
    let logger: Logger
    let gate: StartupGate

    /// Creates the listener; it connects once `gate` opens.
    public init(client: PostgresClient, wakeup: TaskWakeup, gate: StartupGate, logger: Logger) {
        self.client = client
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
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: TaskWakeup.channel) { notifications in
                            failures = 0
                            wakeup.signal()
                            for try await _ in notifications {
                                wakeup.signal()
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
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
