import Foundation
import Logging
import PostgresNIO
import ReproClient
import ReproCoordinator
import ReproCore
import ReproTestSupport
import Testing

/// Nothing is lost: 200 short tasks on 6 workers and 2 coordinators over a dedicated PostgreSQL,
/// while workers are killed with SIGKILL (some restarted with their spool), one coordinator is killed
/// and restarted, and PostgreSQL itself is restarted. Every task must end succeeded with exactly one
/// accepted run, and a late result from a dead lease must be refused.
@Suite("Fault injection", .serialized)
struct FaultInjectionTests {
    static let datasets = 10
    static let seeds = 20
    static let metricsPerRun = 2

    @Test("kill -9 workers and a coordinator, restart PostgreSQL: every task done exactly once", .timeLimit(.minutes(10)))
    func nothingIsLost() async throws {
        try await Cluster.withDedicatedPostgres("fault") { cluster, postgres, root in
            try await chaos(cluster, postgres: postgres, root: root)
            let configuration = try #require(await postgres.databaseURL).configuration()
            try await withPostgresClient(configuration) { client in
                try await Self.checkDatabase(client)
            }
        }
    }

    func chaos(_ cluster: Cluster, postgres: EmbeddedPostgres, root: URL) async throws {
        let portA = Paths.freePort()
        let urlA = try await cluster.startCoordinator(leaseTTL: 4, reaperInterval: 0.5, port: portA)
        let urlB = try await cluster.startCoordinator(leaseTTL: 4, reaperInterval: 0.5)
        try await cluster.createKeys()

        let studyDirectory = try Self.writeStudy(in: root)
        let submitted = try await cluster.cli(["submit", studyDirectory.appendingPathComponent("study.yaml").path])
        let studyID = try #require(submitted.split(separator: "\n").compactMap { UUID(uuidString: String($0)) }.last)

        // A worker that leases one task and then goes silent: its late result must be refused.
        let volunteer = CoordinatorClient(baseURL: urlB, key: cluster.volunteerKey)
        let probe = try await volunteer.registerWorker(
            WorkerRegistration(name: "probe", slots: 1, cpus: 1, memoryBytes: 8 << 30, gpus: 0, hardwareClass: "probe"))
        let probeClient = CoordinatorClient(baseURL: urlB, key: probe.token)
        let probeLease = try #require(try await probeClient.lease(max: 1, wait: 0).leases.first)

        for index in 0..<6 {
            try cluster.startWorker(name: "w\(index)", coordinator: index < 3 ? urlA : urlB, slots: 2)
        }
        let researcher = CoordinatorClient(baseURL: urlB, key: cluster.researcherKey)
        func progress() async -> Int { (try? await researcher.study(studyID).tasks.succeeded) ?? -1 }

        // The faults, each once the run has made some progress, so they hit running jobs.
        try await waitFor(succeeded: 20, progress)
        cluster.workers[1].kill9()
        cluster.workers[4].kill9()
        try await waitFor(succeeded: 50, progress)
        try cluster.startWorker(name: "w1", coordinator: urlA, slots: 2)  // same work dir: its spool is replayed
        cluster.coordinators[0].kill9()
        try await Task.sleep(for: .seconds(2))
        try await cluster.startCoordinator(leaseTTL: 4, reaperInterval: 0.5, port: portA)
        try await waitFor(succeeded: 90, progress)
        try await postgres.stop()
        try await Task.sleep(for: .seconds(2))
        _ = try await postgres.start()
        try await waitFor(succeeded: 130, progress)
        cluster.workers[3].kill9()
        try cluster.startWorker(name: "w4", coordinator: urlB, slots: 2)

        let deadline = ContinuousClock.now + .seconds(300)
        var status = try await researcher.study(studyID)
        while status.state == .running && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            status = (try? await researcher.study(studyID)) ?? status
        }
        #expect(status.state == .completed)
        #expect(status.tasks.succeeded == Self.datasets * Self.seeds, "tasks: \(status.tasks)")

        let late = TaskResult(
            taskID: probeLease.taskID, leaseID: probeLease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: ["accuracy": 0.5, "loss": 9], error: nil, logTail: nil, fingerprint: nil, hardwareClass: "probe")
        let receipts = try await probeClient.submitResults([late])
        #expect(receipts.first?.status == .rejected, "late result: \(receipts)")
        let again = try await probeClient.submitResults([late])
        #expect(again.first?.status == .rejected)
    }

    func waitFor(succeeded target: Int, _ progress: () async -> Int) async throws {
        // Generous: on a loaded 2-core CI machine a restarted coordinator or PostgreSQL can take a while.
        let deadline = ContinuousClock.now + .seconds(300)
        while await progress() < target {
            guard ContinuousClock.now < deadline else { throw ClusterError("no progress to \(target) tasks in 300 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func checkDatabase(_ client: PostgresClient) async throws {
        let total = datasets * seeds
        let rows = try await client.query(
            """
            SELECT (SELECT count(*) FROM tasks WHERE state = 'succeeded'),
                   (SELECT count(*) FROM tasks),
                   (SELECT count(*) FROM runs WHERE accepted),
                   (SELECT count(DISTINCT task_id) FROM runs WHERE accepted),
                   (SELECT count(*) FROM runs WHERE outcome = 'succeeded' AND NOT accepted),
                   (SELECT count(*) FROM run_metrics),
                   (SELECT count(*) FROM run_metrics m JOIN runs r ON r.id = m.run_id WHERE NOT r.accepted),
                   (SELECT count(*) FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.task_id = t.id AND r.accepted)),
                   (SELECT count(*) FROM runs),
                   (SELECT max(attempts) FROM tasks)
            """)
        for try await row in rows.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int).self) {
            #expect(row.1 == Int64(total))
            #expect(row.0 == Int64(total), "every task succeeded")
            #expect(row.2 == Int64(total), "one accepted run per task")
            #expect(row.3 == Int64(total))
            #expect(row.4 == 0, "a successful run that was not accepted would be a lost or doubled result")
            #expect(row.5 == Int64(total * metricsPerRun), "metric rows = accepted runs × metrics")
            #expect(row.6 == 0, "no metrics of runs that did not count")
            #expect(row.7 == 0, "no task without its accepted run")
            // Runs of failed or interrupted attempts may exist; every killed job shows up as a retry.
            #expect(row.9 >= 2, "the faults forced at least one retry")
            print("fault injection: \(row.8) run rows for \(total) tasks, max attempts \(row.9)")
        }
    }

    /// A study of 200 short tasks: a script that sleeps a little and prints two metrics.
    static func writeStudy(in root: URL) throws -> URL {
        let directory = root.appendingPathComponent("study")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            import sys, time
            seed = int(sys.argv[2])
            time.sleep(0.3 + (seed % 4) * 0.15)
            print("REPRO_METRIC accuracy=%.4f" % (0.9 + (seed % 7) / 100))
            print("REPRO_METRIC loss=%.4f" % (0.1 + (seed % 3) / 100))
            """.write(to: directory.appendingPathComponent("noop.py"), atomically: true, encoding: .utf8)
        let datasets = (0..<Self.datasets).map { "d\($0)" }.joined(separator: ", ")
        try """
            preprint: {id: "arXiv:2402.00001", title: "Fault injection"}
            code: {bundle: .}
            run:
              command: ["python3", "noop.py", "--seed", "{seed}", "--dataset", "{dataset}"]
              timeout: 1m
              resources: {cpus: 1, memory: 256MiB, gpus: 0}
              max_attempts: 10
            matrix:
              seeds: {from: 0, count: \(Self.seeds)}
              datasets: [\(datasets)]
            """.write(to: directory.appendingPathComponent("study.yaml"), atomically: true, encoding: .utf8)
        return directory
    }
}
