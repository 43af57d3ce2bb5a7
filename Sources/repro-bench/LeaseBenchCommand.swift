import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import ReproClient
import ReproCoordinator
import ReproCore

/// `repro-bench lease`: the lease → result cycle of issue 3 over HTTP, then the bare lease statement
/// under pgbench on the same cluster.
struct LeaseBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease",
        abstract: "Drive lease → result over HTTP with simulated workers; compare with pgbench's lease rate.",
        discussion: """
            Starts the coordinator in this process on a free 127.0.0.1 port, creates accounts, workers and one \
            study of --tasks no-op tasks through the API, then runs --workers concurrent workers that lease up \
            to --batch tasks and post their results at once, until every task is accepted. Then copies the study \
            as a queue of queued tasks and runs pgbench with the coordinator's lease statement on it.
            """)

    @Option(help: "URL of a fresh, empty database to run in (postgres://…).")
    var databaseURL: String?

    @Option(help: "URL of the cluster's maintenance database; a fresh database is created there and dropped after.")
    var maintenanceURL: String?

    @Option(help: "Simulated workers running at once (default 8).")
    var workers = 8

    @Option(help: "Tasks in the study (default 20000).")
    var tasks = 20_000

    @Option(help: "Most tasks per lease request, and results per result request (default 10).")
    var batch = 10

    @Option(help: "Size of the coordinator's PostgreSQL pool (default 20, the coordinator's own default).")
    var poolSize = 20

    @Option(help: "Seconds the coordinator caches an API key lookup (default 10, the coordinator's own default).")
    var authCacheSeconds = 10

    @Option(help: "pgbench clients (default: as many as --workers).")
    var pgbenchClients: Int?

    @Option(help: "Seconds pgbench runs (default 20).")
    var pgbenchSeconds = 20

    @Option(help: "pgbench executable, a path or a name on the PATH (default pgbench).")
    var pgbench = "pgbench"

    @Flag(help: "Workers send results with their next lease request (POST /v1/leases/cycle), as repro-worker does by default.")
    var cycle = false

    @Flag(help: "Send the queue statements unnamed (parsed and planned per call) instead of prepared, to measure the difference; the lease function (migration 0019) keeps its own plan either way.")
    var unprepared = false

    @Option(help: "Metrics in every result (default 1, `score`); 10 measures result ingestion as issue 16 asks.")
    var metrics = 1

    @Option(help: "End the timed run after this many accepted tasks, leaving the rest queued (default: every task). With --tasks 1000000 it measures leasing with a deep queue.")
    var stopAfter: Int?

    @Option(help: "Rounds of --tasks tasks, each a new study once the last is done, reported as one run (default 1). Many short rounds give a small queue's lease percentiles enough samples.")
    var rounds = 1

    @Flag(help: "Skip the pgbench baseline.")
    var skipPgbench = false

    @Flag(help: "Print EXPLAIN (ANALYZE, BUFFERS) of the lease statement on the pgbench queue.")
    var explain = false

    @Option(help: "Seconds after which the HTTP run gives up (default 600).")
    var timeLimit = 600

    func validate() throws {
        guard databaseURL != nil || maintenanceURL != nil else {
            throw ValidationError("Pass --database-url or --maintenance-url.")
        }
        guard workers >= 1, tasks >= 1, (1...50).contains(batch), poolSize >= 2, pgbenchSeconds >= 1, timeLimit >= 1,
            (1...100).contains(metrics), rounds >= 1
        else {
            throw ValidationError(
                "workers, tasks, rounds, pool size and durations must be positive; batch 1…50; metrics 1…100.")
        }
        guard rounds == 1 || stopAfter == nil else {
            throw ValidationError("--rounds and --stop-after measure different things; pass one of them.")
        }
    }

    func run() async throws {
        var logger = Logger(label: "repro-bench")
        logger.logLevel = .warning
        let (database, maintenanceRunner) = try await BenchDatabase.open(
            databaseURL: databaseURL, maintenanceURL: maintenanceURL, logger: logger)
        defer { maintenanceRunner.cancel() }
        do {
            try await measure(database: database, logger: logger)
        } catch {
            try? await database.drop()
            throw error
        }
        try await database.drop()
    }

    private func measure(database: BenchDatabase, logger: Logger) async throws {
        print("== lease → result\(cycle ? " (one cycle request)" : "")\(unprepared ? " (unprepared lease)" : ""): \(workers) workers, \(metrics) metric\(metrics == 1 ? "" : "s") per result, \(tasks) tasks\(rounds > 1 ? " × \(rounds) rounds" : ""), batch \(batch), database \(database.url.database ?? "?")")
        let coordinator = try await InProcessCoordinator.start(
            database: database.url, tasks: tasks, poolSize: poolSize, authCacheTTL: .seconds(authCacheSeconds),
            preparedStatements: !unprepared, logger: logger)
        var http = HTTPClient.Configuration()
        // One connection per simulated worker, as separate volunteer machines would have; the shared
        // client's default of 8 per host would queue requests inside the load generator.
        http.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: workers + 2)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        let outcome: Result<(LeaseRunFigures, UUID, UUID), any Error>
        do {
            var setup = try await BenchSetup.create(
                baseURL: coordinator.baseURL, adminKey: coordinator.adminKey, http: httpClient, workers: workers,
                tasks: tasks, batch: batch)
            var figures = [try await runCycle(setup: setup, database: database, http: httpClient, workerHTTP: http)]
            for round in 1..<rounds {
                setup = try await setup.nextStudy(http: httpClient, tasks: tasks, round: round)
                figures.append(try await runCycle(setup: setup, database: database, http: httpClient, workerHTTP: http))
            }
            outcome = .success((LeaseRunFigures.merging(figures), setup.studyID, setup.workerIDs[0]))
        } catch {
            outcome = .failure(error)
        }
        try? await httpClient.shutdown()
        await coordinator.stop()
        let (figures, studyID, workerID) = try outcome.get()
        figures.print()

        guard !skipPgbench, stopAfter == nil else { return }
        let client = PostgresClient(configuration: try database.url.configuration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        let baseline = PgbenchBaseline(database: database.url, pgbench: pgbench, logger: logger)
        let queue = try await baseline.prepareQueue(copying: studyID, client: client)
        let script = PgbenchBaseline.script(
            worker: workerID, batch: batch, memoryBytes: BenchSetup.workerMemoryBytes, gpus: 0,
            ttlSeconds: LeasePolicy().ttlSeconds, study: queue)
        if explain {
            try await LeasePlan.print(
                PgbenchBaseline.leaseStatement(
                    worker: workerID, batch: batch, memoryBytes: BenchSetup.workerMemoryBytes, gpus: 0,
                    ttlSeconds: LeasePolicy().ttlSeconds), client: client, logger: logger)
        }
        let clients = pgbenchClients ?? workers
        let pgbenchFigures = try await baseline.run(
            script: script, study: queue, clients: clients, seconds: pgbenchSeconds, client: client)
        figures.printComparison(with: pgbenchFigures, batch: batch)
    }

    /// The timed part: every worker loops until the last task is accepted; commits are read around it.
    ///
    /// The workers get an HTTP client of their own (`workerHTTP`), shut down after the run: the long polls
    /// cancelled at its end close their connections, and a request of the next round on the shared client
    /// could be handed one of them ("I/O on closed channel").
    private func runCycle(
        setup: BenchSetup, database: BenchDatabase, http: HTTPClient, workerHTTP: HTTPClient.Configuration
    ) async throws -> LeaseRunFigures {
        // Let the pool's backends idle past PostgreSQL's one-second statistics flush, so set-up commits
        // are in the first reading and not in the delta.
        let workersClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: workerHTTP)
        // Each worker's connection is opened before the clock starts, as on the shared client before.
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for token in setup.workerTokens {
                    group.addTask {
                        _ = try await CoordinatorClient(baseURL: setup.baseURL, key: token, http: workersClient)
                            .send(.GET, "/healthz")
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            try? await workersClient.shutdown()
            throw error
        }
        try await Task.sleep(for: .milliseconds(1500))
        let commitsBefore = try await database.committedTransactions()
        let target = min(stopAfter ?? tasks, tasks)
        let progress = RunProgress(target: target)
        let start = ContinuousClock.now
        let deadline = start + .seconds(timeLimit)
        let run: Result<[SimulatedWorker.Measurements], any Error>
        do {
            run = .success(
                try await withThrowingTaskGroup(of: SimulatedWorker.Measurements.self) { group in
                    for token in setup.workerTokens {
                        let worker = SimulatedWorker(
                            client: CoordinatorClient(baseURL: setup.baseURL, key: token, http: workersClient),
                            batch: batch, waitSeconds: 1, progress: progress, deadline: deadline, cycle: cycle,
                            metricCount: metrics)
                        group.addTask { try await worker.run() }
                    }
                    var all: [SimulatedWorker.Measurements] = []
                    while let finished = await group.nextResult() {
                        switch finished {
                        case .success(let measurements): all.append(measurements)
                        // A worker cancelled below, in a request, once the run was complete (--stop-after
                        // leaves tasks queued, so the others are mid-cycle then, not in a long poll).
                        case .failure where progress.isComplete: continue
                        case .failure(let error): throw error
                        }
                        // The first worker to stop saw the run complete; the rest may sit in a long poll.
                        if progress.isComplete { group.cancelAll() }
                    }
                    return all
                })
        } catch {
            run = .failure(error)
        }
        try? await workersClient.shutdown()
        let measurements = try run.get()
        guard let end = progress.completionInstant else {
            throw BenchError("the run ended with \(progress.acceptedCount) of \(target) tasks accepted")
        }
        try await Task.sleep(for: .milliseconds(1500))
        let commitsAfter = try await database.committedTransactions()
        let researcher = CoordinatorClient(baseURL: setup.baseURL, key: setup.researcherKey, http: http)
        var status = try await researcher.study(setup.studyID)
        // When the last results were recorded by several transactions at once, none of them may have folded the
        // study's closures, and the reaper's next pass (every 5 s) completes the study (decision 0017).
        var waited = 0
        while target == tasks, status.state == .running, status.tasks.succeeded == tasks, waited < 20 {
            try await Task.sleep(for: .milliseconds(500))
            waited += 1
            status = try await researcher.study(setup.studyID)
        }
        guard target < tasks || (status.tasks.succeeded == tasks && status.state == .completed) else {
            throw BenchError("the study ended \(status.state) with \(status.tasks.succeeded) of \(tasks) tasks succeeded")
        }
        return LeaseRunFigures(
            workers: workers, tasks: progress.acceptedCount, batch: batch, elapsed: end - start,
            commits: commitsAfter - commitsBefore,
            lease: LatencyDistribution(measurements.flatMap(\.leaseLatencies)),
            result: LatencyDistribution(measurements.flatMap(\.resultLatencies)),
            emptyLeases: measurements.map(\.emptyLeases).reduce(0, +))
    }
}
