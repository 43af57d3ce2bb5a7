import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import PostgresNIO
import ReproCore
import ReproMetrics
import ServiceLifecycle

/// The parts of a running coordinator that tests and benchmarks reach into.
public struct CoordinatorServices: Sendable {
    /// The pool itself, for set-up and checks without deadlines.
    public let client: PostgresClient
    /// The pool under the coordinator's deadlines, as every repository uses it.
    public let database: DatabaseClient
    public let wakeup: TaskWakeup
    public let queue: TaskQueue
    public let accounts: AccountRepository
    public let studies: StudyRepository
    public let signer: SigningKeyStore
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
    let database = DatabaseClient(client, deadline: configuration.databaseDeadline, logger: logger)

    let wakeup = TaskWakeup()
    let policy = configuration.policy
    let queue = TaskQueue(client: database, policy: policy, logger: logger)
    let accounts = AccountRepository(client: database, logger: logger)
    // Before anything else: a coordinator whose signing key is missing or readable by others must not start.
    let signer = SigningKeyStore(keyFile: configuration.signingKeyFile)
    let keyID = try signer.prepare()
    logger.notice("signing key ready", metadata: ["repro.signing.key_id": "\(keyID)", "repro.signing.key_file": "\(signer.keyFile.path)"])
    let studies = StudyRepository(client: database, signer: signer, logger: logger)
    let gate = Gate()
    services.append(NotificationListener(database: database, wakeup: wakeup, gate: gate, logger: logger))
    // Wakes the score, reliability and adaptive maintainers when something may have changed their inputs.
    let maintenance = TaskWakeup()
    services.append(Reaper(queue: queue, policy: policy, gate: gate, maintenance: maintenance, logger: logger))
    services.append(
        QueueProbe(
            database: database, looks: wakeup.emptyLooks, interval: .milliseconds(Int(policy.queueProbeSeconds * 1000)),
            gate: gate, logger: logger))
    services.append(
        ScoreMaintainer(
            scores: ScoreRepository(client: database, studies: studies, logger: logger), nudge: maintenance, gate: gate,
            logger: logger))
    // Both pass once a second at most when nudged, else every 30 s.
    let passes = MaintenanceLoop(interval: .seconds(1), nudge: maintenance, gate: gate)
    services.append(
        ReliabilityMaintainer(
            reliability: ReliabilityRepository(client: database, logger: logger),
            quarantines: QuarantineRepository(client: database, logger: logger),
            rule: configuration.automaticQuarantine, loop: passes, logger: logger))
    services.append(
        AdaptiveMaintainer(
            adaptive: AdaptiveRepository(client: database, logger: logger), loop: passes, logger: logger))
    CoordinatorMetrics.registerAll()
    if let metricsPort = configuration.metricsPort {
        // Only with a metrics server: nobody reads the gauges otherwise, and their query every 5 s was a
        // quarter of an idle coordinator's commits (issue 10, part 4).
        services.append(QueueGauges(database: database, interval: .seconds(5), gate: gate, logger: logger))
        services.append(MetricsServer.application(host: configuration.metricsHost, port: metricsPort, logger: logger))
    }
    let identities = IdentityCache(ttl: configuration.authCacheTTL)
    services.append(
        IdentityRefresher(
            cache: identities, accounts: accounts,
            recentUse: configuration.authCacheTTL + .milliseconds(Int(policy.maxWaitSeconds * 1000)), gate: gate,
            logger: logger))

    let serverName = "reprogrid"
    let router = buildRouter(
        configuration: configuration, database: database, wakeup: wakeup, queue: queue, accounts: accounts,
        studies: studies, signer: signer, identities: identities, maintenance: maintenance, logger: logger
    ).router
    // Each request's pass through the router in a task of its own, long-polls parked between passes
    // (decision 0019): an idle connection and a waiting worker then hold no middleware frames.
    let requests = RequestTaskResponder(inner: router.buildResponder())
    let connections = ConnectionResponder(requests: requests, serverName: serverName, logger: logger)
    var app = Application(
        responder: requests,
        // The server answers with ConnectionResponder instead of the Application's own closure around
        // `requests`, whose frames stayed in every connection's task (decision 0019).
        server: HTTPServerBuilder { _ in
            HTTP1Channel(
                responder: { request, writer, channel in
                    try await connections.respond(to: request, writer: writer, channel: channel)
                },
                // Lets a long-poll notice that its client went or the server is stopping (ClientConnection),
                // without reading its socket; ReadBufferSizer only sets the connection's read buffer and leaves.
                configuration: .init(
                    additionalChannelHandlers: [ReadBufferSizer(), ClientConnectionWatcher(), ParserErrorResponder()]))
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
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
    return (
        app,
        CoordinatorServices(
            client: client, database: database, wakeup: wakeup, queue: queue, accounts: accounts, studies: studies,
            signer: signer)
    )
}

/// The router with its middleware and every route; returned with the catalogue of guarded routes.
public func buildRouter(
    configuration: CoordinatorConfiguration, database: DatabaseClient, wakeup: TaskWakeup, queue: TaskQueue,
    accounts: AccountRepository, studies: StudyRepository, signer: SigningKeyStore, logger: Logger
) -> (router: Router<AppRequestContext>, routes: [GuardedRoute]) {
    buildRouter(
        configuration: configuration, database: database, wakeup: wakeup, queue: queue, accounts: accounts,
        studies: studies, signer: signer, identities: IdentityCache(ttl: configuration.authCacheTTL), logger: logger)
}

/// ``buildRouter(configuration:database:wakeup:queue:accounts:studies:signer:logger:)`` over an identity
/// cache that an ``IdentityRefresher`` keeps confirmed.
func buildRouter(
    configuration: CoordinatorConfiguration, database: DatabaseClient, wakeup: TaskWakeup, queue: TaskQueue,
    accounts: AccountRepository, studies: StudyRepository, signer: SigningKeyStore, identities: IdentityCache,
    maintenance: TaskWakeup? = nil, logger: Logger
) -> (router: Router<AppRequestContext>, routes: [GuardedRoute]) {
    let router = Router(context: AppRequestContext.self)
    // Made before the middleware, which reads its catalogue per request; it registers nothing yet.
    let routes = RouteGuard(router: router)
    // Outermost, so it counts the status the client gets, problem documents included.
    router.add(middleware: HTTPMetricsMiddleware())
    // Next: it signals the maintainers after every inner middleware and the handler are done.
    if let maintenance { router.add(middleware: MaintenanceNudgeMiddleware<AppRequestContext>(nudge: maintenance)) }
    router.add(middleware: ProblemMiddleware<AppRequestContext>(catalogue: routes.catalogue))
    router.add(middleware: LogRequestsMiddleware(.debug))
    // Before the authenticator: the key lookup counts against the request's database time too.
    router.add(middleware: DatabaseBudgetMiddleware(budget: configuration.databaseDeadline))
    router.add(middleware: Authenticator(accounts: accounts, cache: identities, catalogue: routes.catalogue))
    router.add(middleware: PublicReadMiddleware(enabled: configuration.publicRead))
    let sessions = SessionRepository(client: database, logger: logger)
    router.add(middleware: SessionMiddleware(sessions: sessions))
    let policy = configuration.policy
    HealthController(client: database, logger: logger).register(on: routes)
    AccountController(accounts: accounts).register(on: routes)
    KeyController(accounts: accounts).register(on: routes)
    BundleController(client: database, logger: logger).register(on: routes)
    StudyController(studies: studies, limits: configuration.specLimits).register(on: routes)
    ReviewController(
        moderation: ModerationRepository(client: database, signer: signer, logger: logger), studies: studies,
        signer: signer
    ).register(on: routes)
    ReportController(client: database, studies: studies, logger: logger).register(on: routes)
    PlanController(
        reports: ReportRepository(client: database, studies: studies, logger: logger), studies: studies,
        limits: configuration.specLimits
    ).register(on: routes)
    let quarantines = QuarantineRepository(client: database, logger: logger)
    WorkerController(
        accounts: accounts, engine: LeaseEngine(queue: queue, wakeup: wakeup, policy: policy, logger: logger),
        queue: queue, policy: policy, quarantines: quarantines, maintenance: maintenance
    ).register(on: routes)
    ReliabilityController(reliability: ReliabilityRepository(client: database, logger: logger), quarantines: quarantines)
        .register(on: routes)
    let preprints = PreprintRepository(client: database, logger: logger)
    let scores = ScoreRepository(client: database, studies: studies, logger: logger)
    PreprintController(preprints: preprints, scores: scores).register(on: routes)
    ScoreController(scores: scores).register(on: routes)
    FeedbackController(feedback: FeedbackRepository(client: database, logger: logger), preprints: preprints).register(on: routes)
    BadgeController(preprints: preprints).register(on: routes)
    DashboardController(
        sessions: sessions, dashboard: DashboardRepository(client: database, logger: logger), studies: studies,
        reports: ReportRepository(client: database, studies: studies, logger: logger), preprints: preprints, scores: scores,
        feedback: FeedbackRepository(client: database, logger: logger), access: PageAccess(publicRead: configuration.publicRead),
        cookieSecure: configuration.cookieSecure
    ).register(on: router)
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
