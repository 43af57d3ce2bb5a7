import Foundation
import Hummingbird
import Logging
import ReproClient
import ReproCoordinator
import ReproCore
import ServiceLifecycle

/// The coordinator, built with `buildApplication` and run inside this process on a free loopback port.
///
/// In-process rather than spawning the release `repro-coordinator`: one binary to build, and the
/// benchmark sets what the CLI does not expose (a spec limit above 10 000 tasks, the admin key, the
/// pool size). The server code and its release optimisation are the same; the load generator shares the
/// two cores either way.
struct InProcessCoordinator: Sendable {
    let baseURL: String
    let adminKey: String
    private let service: Task<Void, any Error>
    private let group: ServiceGroup

    /// Starts the coordinator over `database` and returns once it answers `/readyz`.
    static func start(
        database: DatabaseURL, tasks: Int, poolSize: Int, authCacheTTL: Duration, preparedStatements: Bool = true,
        logger: Logger
    ) async throws -> InProcessCoordinator {
        let port = try FreePort.pick()
        let adminKey = APIKey.generate()
        var policy = LeasePolicy()
        policy.preparedStatements = preparedStatements
        let configuration = CoordinatorConfiguration(
            host: "127.0.0.1", port: port, database: .url(database.urlString), policy: policy,
            adminKey: adminKey, specLimits: SpecLimits(maxTasks: max(tasks, SpecLimits.default.maxTasks)),
            authCacheTTL: authCacheTTL, maxConnections: poolSize)
        let (app, _) = try await buildApplication(configuration: configuration, logger: logger)
        // A service group of our own, so that `stop` can shut the server down gracefully: cancelling
        // `runService` made Hummingbird log two errors ("Waiting on child channel: CancellationError")
        // at the end of every benchmark run that were not errors of the run.
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let service = Task { try await group.run() }
        let coordinator = InProcessCoordinator(
            baseURL: "http://127.0.0.1:\(port)", adminKey: adminKey, service: service, group: group)
        try await coordinator.waitUntilReady()
        return coordinator
    }

    /// Polls `/readyz` (migrations run before the server listens) for up to 60 s.
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        let probe = CoordinatorClient(baseURL: baseURL, key: nil)
        while ContinuousClock.now < deadline {
            if (try? await probe.send(.GET, "/readyz")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        service.cancel()
        throw BenchError("the in-process coordinator did not become ready within 60 s on \(baseURL)")
    }

    /// Stops the server and its services (closing the pool also makes PostgreSQL flush its statistics).
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await service.result
    }
}
