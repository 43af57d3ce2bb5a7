import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ReproCore
import ServiceLifecycle

/// The parts of a running coordinator that tests and benchmarks reach into.
public struct CoordinatorServices: Sendable {
    public let client: PostgresClient
    public let wakeup: TaskWakeup
    public let queue: TaskQueue
    public let accounts: AccountRepository
    public let studies: StudyRepository
}

/// Builds the coordinator: database (embedded or by URL), migrations and admin bootstrap before the
/// server starts, the router with every route and its roles, and the background services (LISTEN
/// connection, reaper), all shut down gracefully on SIGTERM/SIGINT.
public func buildApplication(
    configuration: CoordinatorConfiguration, logger: Logger
) async throws -> (some ApplicationProtocol, CoordinatorServices) {
    var services: [any Service] = []
    let postgresConfiguration: PostgresClient.Configuration
    switch configuration.database {
    case .url(let url):
        postgresConfiguration = try DatabaseURL(url).configuration()
    case .embedded(let dataDirectory, let tcpPort):
        let embedded = EmbeddedPostgres(
            dataDirectory: dataDirectory.map { URL(fileURLWithPath: $0) }, port: tcpPort, logger: logger)
        postgresConfiguration = try await embedded.start()
        // First in the list, so the service group stops it last, after every user of the database.
        services.append(EmbeddedPostgresService(postgres: embedded, logger: logger))
    }
    var poolConfiguration = postgresConfiguration
    poolConfiguration.options.maximumConnections = configuration.maxConnections
    let client = PostgresClient(configuration: poolConfiguration, backgroundLogger: logger)
    services.append(client)

    let wakeup = TaskWakeup()
    let policy = configuration.policy
    let queue = TaskQueue(client: client, policy: policy, logger: logger)
    let accounts = AccountRepository(client: client, logger: logger)
    let studies = StudyRepository(client: client, logger: logger)
    let gate = StartupGate()
    services.append(NotificationListener(client: client, wakeup: wakeup, gate: gate, logger: logger))
    services.append(Reaper(queue: queue, policy: policy, gate: gate, logger: logger))
    services.append(
        ScoreMaintainer(scores: ScoreRepository(client: client, studies: studies, logger: logger), gate: gate, logger: logger))
    services.append(
        ReliabilityMaintainer(
            reliability: ReliabilityRepository(client: client, logger: logger),
            quarantines: QuarantineRepository(client: client, logger: logger), rule: configuration.automaticQuarantine,
            interval: .seconds(1), gate: gate, logger: logger))

    let router = buildRouter(
        configuration: configuration, client: client, wakeup: wakeup, queue: queue, accounts: accounts,
        studies: studies, logger: logger
    ).router
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "reprogrid"),
        services: services,
        logger: logger)
    let migrationsDirectory = try MigrationsLocator.locate(configuration.migrationsDirectory)
    let adminKey = configuration.adminKey
    app.beforeServerStarts {
        let runner = MigrationRunner(directory: migrationsDirectory, logger: logger)
        let applied = try await runner.apply(using: client)
        logger.info("database schema up to date", metadata: ["repro.migrations.applied": "\(applied.count)"])
        if let key = try await accounts.bootstrapAdmin(key: adminKey) {
            if adminKey == nil {
                // Printed once, on the terminal: the key is stored only as a hash. Written straight to
                // the descriptor, since print() buffers when stdout is a pipe or file (a supervisor's
                // log) and the line would appear only when the buffer fills or the process exits.
                FileHandle.standardOutput.write(Data("Admin API key (shown once, store it now): \(key)\n".utf8))
            }
            logger.notice("admin account created")
        }
        gate.open()
    }
    return (app, CoordinatorServices(client: client, wakeup: wakeup, queue: queue, accounts: accounts, studies: studies))
}

/// The router with its middleware and every route; returned with the catalogue of guarded routes.
public func buildRouter(
    configuration: CoordinatorConfiguration, client: PostgresClient, wakeup: TaskWakeup, queue: TaskQueue,
    accounts: AccountRepository, studies: StudyRepository, logger: Logger
) -> (router: Router<AppRequestContext>, routes: [GuardedRoute]) {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ProblemMiddleware<AppRequestContext>())
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: Authenticator(accounts: accounts, cacheTTL: configuration.authCacheTTL))
    router.add(middleware: PublicReadMiddleware(enabled: configuration.publicRead))
    let routes = RouteGuard(router: router)
    let policy = configuration.policy
    HealthController(client: client, logger: logger).register(on: routes)
    AccountController(accounts: accounts).register(on: routes)
    BundleController(client: client, logger: logger).register(on: routes)
    StudyController(studies: studies, limits: configuration.specLimits).register(on: routes)
    ReportController(client: client, studies: studies, logger: logger).register(on: routes)
    let quarantines = QuarantineRepository(client: client, logger: logger)
    WorkerController(
        accounts: accounts, engine: LeaseEngine(queue: queue, wakeup: wakeup, policy: policy), queue: queue,
        policy: policy, quarantines: quarantines
    ).register(on: routes)
    ReliabilityController(reliability: ReliabilityRepository(client: client, logger: logger), quarantines: quarantines)
        .register(on: routes)
    let preprints = PreprintRepository(client: client, logger: logger)
    let scores = ScoreRepository(client: client, studies: studies, logger: logger)
    PreprintController(preprints: preprints, scores: scores).register(on: routes)
    ScoreController(scores: scores).register(on: routes)
    FeedbackController(feedback: FeedbackRepository(client: client, logger: logger), preprints: preprints).register(on: routes)
    return (router, routes.routes)
}

/// Stops the embedded PostgreSQL after everything else has shut down.
struct EmbeddedPostgresService: Service {
    let postgres: EmbeddedPostgres
    let logger: Logger

    func run() async throws {
        // Returns on graceful shutdown (or cancellation); then the cluster is stopped.
        try? await gracefulShutdown()
        do {
            try await postgres.stop()
            logger.info("embedded PostgreSQL stopped")
        } catch {
            logger.error("embedded PostgreSQL did not stop cleanly", metadata: ["repro.error": "\(error)"])
        }
    }
}
