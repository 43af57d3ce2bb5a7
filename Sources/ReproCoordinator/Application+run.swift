import Hummingbird
import Logging
import ServiceLifecycle

/// Runs a built coordinator until SIGTERM or SIGINT, then stops it within
/// `configuration.shutdownGrace`, whatever the database does.
///
/// Hummingbird's `runService()` waits for graceful shutdown without a limit, and one request or
/// service stuck on the database kept the process alive for good (issue 10). Here the group's
/// services get two thirds of the grace period to finish (in-flight requests end by the database
/// deadline, long-polls at once), are then cancelled, and what still runs after the last third is
/// ended by ServiceLifecycle's cancellation timeout, which stops the process.
public func runCoordinator(
    _ app: some ApplicationProtocol, configuration: CoordinatorConfiguration, logger: Logger
) async throws {
    var group = ServiceGroupConfiguration(
        services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    group.maximumGracefulShutdownDuration = configuration.shutdownGrace * 2 / 3
    group.maximumCancellationDuration = configuration.shutdownGrace / 3
    try await ServiceGroup(configuration: group).run()
}
