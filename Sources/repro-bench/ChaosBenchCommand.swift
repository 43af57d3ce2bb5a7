import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import ReproClient
import ReproCoordinator
import ReproCore

/// `repro-bench chaos`: the outside chaos run of issue 10 — real coordinators and workers on one
/// PostgreSQL, while workers, coordinators and the database itself are killed on a schedule.
struct ChaosBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Kill workers, coordinators and PostgreSQL during a study; print what the run cost.",
        discussion: """
            Creates a fresh database on the cluster of --maintenance-url, starts --coordinators coordinators on it \
            and --workers real repro-worker processes (isolation none, trivial Python jobs), submits a study of \
            --tasks tasks with the repro CLI, and injects the faults evenly over the run's progress: SIGKILL of two \
            random workers (restarted with their spool), SIGKILL of a random coordinator (restarted on its port), \
            and `pg_ctl restart -m immediate` of the cluster. Probes time requests to every coordinator throughout. \
            At the end: the exactly-once invariants, attempts per task, refused late results (from the workers' \
            logs), how long the score took to catch up, and how long each coordinator took to stop on SIGTERM \
            right after one more immediate PostgreSQL restart, with the workers still polling.
            """)

    @OptionGroup var spawned: SpawnedCoordinatorOptions

    @Option(help: "The repro-worker executable.") var worker = ".build/debug/repro-worker"
    @Option(help: "The repro CLI executable, which submits the study.") var cli = ".build/debug/repro"
    @Option(help: "Data directory of the cluster (for pg_ctl restart).") var pgData: String
    @Option(help: "Folder holding pg_ctl.") var pgBin: String
    @Option(help: "Server log of the cluster.") var pgLog: String

    @Option(help: "Tasks of the study (a multiple of 10; default 1000).") var tasks = 1000
    @Option(help: "Coordinators on the one database (default 2).") var coordinators = 2
    @Option(help: "Worker processes (default 8).") var workers = 8
    @Option(help: "Slots of each worker (default 2).") var slots = 2
    @Option(help: "Times two random workers are killed with SIGKILL and restarted (default 3).") var workerKills = 3
    @Option(help: "Times a random coordinator is killed with SIGKILL and restarted (default 3).")
    var coordinatorKills = 3
    @Option(help: "Immediate PostgreSQL restarts during the run (default 3).") var postgresRestarts = 3

    @Option(help: "Coordinators' lease TTL, seconds (default 10).") var leaseTTL = 10
    @Option(help: "Coordinators' --database-deadline, seconds (default 10).") var databaseDeadline = 10
    @Option(help: "Coordinators' --shutdown-grace, seconds (default 15).") var shutdownGrace = 15
    @Option(help: "A probe request slower than the database deadline plus this many seconds is hung (default 5).")
    var hangMargin = 5
    @Option(help: "Seconds the whole study may take before the run gives up (default 900).") var timeLimit = 900

    func validate() throws {
        guard tasks >= 10, tasks % 10 == 0 else { throw ValidationError("--tasks must be a multiple of 10.") }
        guard coordinators >= 1, workers >= 2 else { throw ValidationError("at least 1 coordinator and 2 workers.") }
    }

    func run() async throws {
        var logger = Logger(label: "repro-bench")
        logger.logLevel = .warning
        let (database, maintenanceRunner) = try await BenchDatabase.open(
            databaseURL: nil, maintenanceURL: spawned.maintenanceURL, logger: logger)
        defer { maintenanceRunner.cancel() }
        let root = URL(fileURLWithPath: "/tmp/repro-chaos-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let postgres = PostgresControl(dataDirectory: pgData, binDirectory: pgBin, logFile: pgLog)
        let cluster = try await ChaosCluster(
            executables: .init(coordinator: spawned.coordinator, worker: worker), database: database.url,
            migrations: spawned.migrations,
            coordinatorArguments: [
                "--lease-ttl", "\(leaseTTL)", "--reaper-interval", "1", "--retry-backoff", "0.2",
                "--database-deadline", "\(databaseDeadline)", "--shutdown-grace", "\(shutdownGrace)",
                "--signing-key", root.appendingPathComponent("signing.key").path,
            ], root: root, coordinatorCount: coordinators, workerSlots: slots,
            volunteerKey: { first in
                let admin = CoordinatorClient(baseURL: first.baseURL, key: first.adminKey)
                return try await admin.createAccount(name: "chaos-volunteer", roles: [.volunteer]).key
            })
        let client = PostgresClient(configuration: try database.url.configuration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        do {
            try await chaos(cluster: cluster, postgres: postgres, ledger: ChaosLedger(client: client, logger: logger))
            say("logs: \(root.path) and /tmp/repro-bench-coordinator-PORT.log")
        } catch {
            await cluster.killAll()
            say("chaos run failed; logs in \(root.path)")
            throw error
        }
        try? await database.drop()
    }

    private func chaos(cluster: ChaosCluster, postgres: PostgresControl, ledger: ChaosLedger) async throws {
        let urls = await cluster.coordinatorURLs
        let first = await cluster.coordinators[0]
        let admin = CoordinatorClient(baseURL: first.baseURL, key: first.adminKey)
        let researcherAccount = try await admin.createAccount(name: "chaos-researcher", roles: [.researcher])
        _ = try await admin.setTrusted(researcherAccount.accountID, trusted: true, reason: "chaos run")
        let preprint = "arXiv:2403.0\(String(format: "%04d", Int.random(in: 0..<10_000)))"
        let studyFile = try ChaosStudy.write(in: cluster.root, tasks: tasks, preprint: preprint)
        let submitted = try await ChildProcess.run(
            cli, arguments: ["submit", studyFile.path],
            environment: ProcessInfo.processInfo.environment.merging(
                ["REPRO_COORDINATOR": first.baseURL, "REPRO_KEY": researcherAccount.key]) { $1 })
        guard let studyID = submitted.split(separator: "\n").compactMap({ UUID(uuidString: String($0)) }).last else {
            throw BenchError("repro submit printed no study id:\n\(submitted)")
        }
        // The probes' own worker: it only ever sends results for leases that do not exist (a write
        // transaction answered with a refusal), so it takes no task from the real workers.
        let volunteer = CoordinatorClient(baseURL: first.baseURL, key: cluster.volunteerKey)
        let probeToken = try await volunteer.registerWorker(
            WorkerRegistration(
                name: "chaos-probe", slots: 1, cpus: 1, memoryBytes: 1 << 30, gpus: 0, hardwareClass: "probe")
        ).token

        let threshold = Duration.seconds(databaseDeadline + hangMargin)
        let probe = RequestProbe(threshold: threshold)
        let probes = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, url) in urls.enumerated() {
                    let worker = CoordinatorClient(baseURL: url, key: probeToken)
                    let researcher = CoordinatorClient(baseURL: url, key: researcherAccount.key)
                    group.addTask {
                        await probe.loop(id: 2 * index, pause: .milliseconds(100)) {
                            _ = try await worker.submitResults([ChaosStudy.strayResult()])
                        }
                    }
                    group.addTask {
                        await probe.loop(id: 2 * index + 1, pause: .milliseconds(100)) {
                            _ = try await researcher.study(studyID)
                        }
                    }
                }
            }
        }
        defer { probes.cancel() }

        let clock = ContinuousClock()
        let started = clock.now
        try await cluster.startWorkers(workers)
        let schedule = ChaosSchedule(
            workerKills: workerKills, coordinatorKills: coordinatorKills, postgresRestarts: postgresRestarts)
        say(
            "== chaos: \(tasks) tasks, \(coordinators) coordinators, \(workers) workers × \(slots) slots, "
                + "faults \(schedule.faults.map(\.name).joined(separator: ", ")), lease TTL \(leaseTTL) s, "
                + "database deadline \(databaseDeadline) s, hung = slower than \(databaseDeadline + hangMargin) s")
        var pgRestartTimes: [Duration] = []
        var next = 0
        var done = 0
        while done < tasks {
            guard clock.now - started < .seconds(timeLimit) else {
                throw BenchError("only \(done) of \(tasks) tasks succeeded within \(timeLimit) s")
            }
            try await Task.sleep(for: .milliseconds(200))
            done = await ledger.succeeded() ?? done
            guard next < schedule.faults.count, done >= schedule.threshold(of: next, tasks: tasks) else { continue }
            let fault = schedule.faults[next]
            next += 1
            let at = Format.fixed(Self.seconds(clock.now - started), 1)
            switch fault {
            case .workers:
                let victims = Array((0..<workers).shuffled().prefix(2))
                say("[\(at) s, \(done) done] SIGKILL workers \(victims), restart after 1 s")
                try await cluster.killAndRestartWorkers(victims, pause: .seconds(1))
            case .coordinator:
                let victim = Int.random(in: 0..<coordinators)
                say("[\(at) s, \(done) done] SIGKILL coordinator \(victim), restart after 2 s")
                try await cluster.killAndRestartCoordinator(victim, pause: .seconds(2))
            case .postgres:
                let took = try await postgres.restartImmediately()
                pgRestartTimes.append(took)
                say("[\(at) s, \(done) done] pg_ctl restart -m immediate (\(Format.fixed(Self.seconds(took), 1)) s)")
            }
        }
        let runTime = clock.now - started
        if next < schedule.faults.count {
            say("warning: the study finished before faults \(next + 1)…\(schedule.faults.count) could be injected")
        }
        // The workers and probes go on (idle long-polls, probe requests) until the coordinators stop, so
        // the score is maintained under traffic and SIGTERM finds requests in flight.
        let invariants = try await ledger.invariants()
        let score = await ledger.scoreSettles(
            preprint: preprint, acceptedRuns: invariants.acceptedRuns, within: .seconds(120))
        let refusals = WorkerLogCounts.read(paths: (0..<workers).map { cluster.workerLog($0) })
        let probed = probe.snapshot()

        // Clean SIGTERM, right after one more immediate restart: the coordinators' pools are full of
        // connections the server just dropped, and the workers' long-polls and retries are in flight.
        _ = try await postgres.restartImmediately()
        let stops = await cluster.terminateCoordinators(within: .seconds(shutdownGrace + 15))
        probes.cancel()
        await cluster.stopWorkers(within: .seconds(15))

        say("run: \(Format.fixed(Self.seconds(runTime), 1)) s until \(tasks) tasks succeeded")
        say(
            "probe requests: \(probed.sent) answered, \(probed.unavailable) × 503, \(probed.transportErrors) "
                + "transport errors (coordinator down), slowest \(Format.fixed(Self.seconds(probed.slowest), 2)) s, "
                + "hung (> \(databaseDeadline + hangMargin) s or still waiting): \(probed.hung)")
        say(
            "exactly once: \(invariants.tasks) tasks, \(invariants.succeeded) succeeded, \(invariants.acceptedRuns) "
                + "accepted runs, \(invariants.tasksWithTwoAcceptedRuns) tasks with two accepted runs; "
                + "\(invariants.runRows) run rows in all")
        say(
            "leases: \(invariants.extraLeases) extra; attempts per task: "
                + invariants.attempts.map { "\($0.attempts)×\($0.tasks)" }.joined(separator: ", "))
        say(
            "late results refused (worker logs): \(refusals.refused); worker request failures retried: "
                + "\(refusals.retried), of which timeouts: \(refusals.timeouts)")
        if let settled = score.settledAfter {
            say(
                "score: counts \(score.runs) runs, not stale \(Format.fixed(Self.seconds(settled), 1)) s after the run"
            )
        } else {
            say("score: STUCK at \(score.runs) runs, stale \(score.dirty) after 120 s")
        }
        say(
            "PostgreSQL restarts took "
                + pgRestartTimes.map { Format.fixed(Self.seconds($0), 1) + " s" }.joined(separator: ", "))
        say(
            "SIGTERM after an immediate PostgreSQL restart (grace \(shutdownGrace) s): "
                + stops.enumerated().map { index, time in
                    "coordinator \(index) "
                        + (time.map { "stopped in \(Format.fixed(Self.seconds($0), 2)) s" } ?? "DID NOT STOP")
                }.joined(separator: ", "))
    }

    /// Writes a line at once: `print` is block-buffered into a file, and each fault should show as it strikes.
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
