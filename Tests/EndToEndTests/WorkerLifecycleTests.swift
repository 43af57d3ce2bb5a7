import Foundation
import PostgresNIO
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproWorker

/// The worker side of "nothing is lost", on real processes: cancellation reaches a running job,
/// results survive a coordinator outage and a worker crash through the spool, and SIGTERM hands
/// running tasks back.
@Suite("Worker lifecycle", .serialized)
struct WorkerLifecycleTests {
    /// A study of `tasks` jobs that sleep `seconds`, then report a metric. Each job's command line
    /// carries a dataset name unique to `root`, so the test finds the job's host pid in /proc: a
    /// sandboxed job can neither write outside its folder nor know its host pid.
    static func sleepingStudy(in root: URL, tasks: Int, seconds: Double) throws -> URL {
        let directory = root.appendingPathComponent("study")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            import time
            time.sleep(\(seconds))
            print("REPRO_METRIC accuracy=0.9")
            """.write(to: directory.appendingPathComponent("sleep.py"), atomically: true, encoding: .utf8)
        try """
            preprint: {id: "arXiv:2403.00001", title: "Sleeping jobs"}
            code: {bundle: .}
            run:
              command: ["python3", "sleep.py", "--seed", "{seed}", "--dataset", "{dataset}"]
              timeout: 5m
              resources: {cpus: 1, memory: 256MiB, gpus: 0}
            matrix:
              seeds: {from: 0, count: \(tasks)}
              datasets: [\(dataset(for: root))]
            """.write(to: directory.appendingPathComponent("study.yaml"), atomically: true, encoding: .utf8)
        return directory.appendingPathComponent("study.yaml")
    }

    static func dataset(for root: URL) -> String {
        "d" + root.lastPathComponent.split(separator: "-").last!.lowercased()
    }

    /// The host pid of the running job of `seed`, found by its command line.
    static func pid(in root: URL, seed: Int) -> Int32? {
        let marker = "sleep.py\0--seed\0\(seed)\0--dataset\0\(dataset(for: root))\0"
        return HostProcesses.matchingNow(marker).first
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    static func waitUntil(_ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(try await condition()) {
            guard ContinuousClock.now < deadline else { throw ClusterError("condition not met within \(timeout)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Runs `body` with a coordinator (short lease) on a fresh database; prints the logs on failure.
    static func withCluster(leaseTTL: Int = 6, _ body: (Cluster, URL, TestDatabase) async throws -> Void) async throws {
        let database = try await TestDatabase.create()
        let cluster = try Cluster(databaseURL: database.url)
        let root = try Paths.temporaryDirectory("reprogrid-lifecycle")
        do {
            try await cluster.startCoordinator(leaseTTL: leaseTTL, reaperInterval: 0.5)
            try await cluster.createKeys()
            try await body(cluster, root, database)
        } catch {
            Issue.record("\(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        try await database.drop()
        try? FileManager.default.removeItem(at: root)
    }

    @Test("cancelling a study stops its running job's whole process group", .timeLimit(.minutes(3)))
    func cancellationReachesRunningJob() async throws {
        try await Self.withCluster { cluster, root, _ in
            let spec = try Self.sleepingStudy(in: root, tasks: 1, seconds: 120)
            let id = try #require(UUID(uuidString: try await cluster.cli(["submit", spec.path]).split(separator: "\n").last.map(String.init) ?? ""))
            let worker = try cluster.startWorker(name: "cancel")
            var found: Int32?
            try await Self.waitUntil {
                found = found ?? Self.pid(in: root, seed: 0)
                return found != nil
            }
            let pid = try #require(found)
            #expect(Self.isAlive(pid))
            _ = try await cluster.cli(["cancel", id.uuidString])
            // The next heartbeat (every lease TTL / 3 = 2 s) says stop; the worker kills the group.
            try await Self.waitUntil(.seconds(30)) { !Self.isAlive(pid) }
            try await Self.waitUntil(.seconds(30)) { worker.output.contains("the study was cancelled") }
            let status = try await CoordinatorClient(baseURL: cluster.coordinatorURLs[0], key: cluster.researcherKey).study(id)
            #expect(status.state == .cancelled)
            #expect(status.tasks.cancelled == 1)
            #expect(worker.isRunning, "the worker goes on after a cancelled job")
        }
    }

    @Test("a result finished during a coordinator outage survives a worker crash and is delivered once", .timeLimit(.minutes(3)))
    func spoolReplayAfterCrash() async throws {
        try await Self.withCluster { cluster, root, _ in
            let spec = try Self.sleepingStudy(in: root, tasks: 1, seconds: 3)
            let id = try #require(UUID(uuidString: try await cluster.cli(["submit", spec.path]).split(separator: "\n").last.map(String.init) ?? ""))
            let worker = try cluster.startWorker(name: "spool")
            try await Self.waitUntil { Self.pid(in: root, seed: 0) != nil }
            // The coordinator dies while the job runs; the job finishes and its result goes to the spool.
            let port = Int(cluster.coordinatorURLs[0].split(separator: ":").last!)!
            cluster.coordinators[0].kill9()
            let spoolDirectory = cluster.logs.appendingPathComponent("work-spool/spool")
            try await Self.waitUntil(.seconds(30)) {
                ((try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory.path)) ?? []).contains { $0.hasSuffix(".json") }
            }
            worker.kill9()
            // Coordinator back (same port), worker restarted with the same work directory: it sends the spool.
            try await cluster.startCoordinator(leaseTTL: 6, reaperInterval: 0.5, port: port)
            try cluster.startWorker(name: "spool")
            let client = CoordinatorClient(baseURL: cluster.coordinatorURLs[0], key: cluster.researcherKey)
            try await Self.waitUntil(.seconds(60)) { try await client.study(id).state == .completed }
            let runs = try await client.runs(id)
            #expect(runs.filter(\.accepted).count == 1)
            #expect(runs.count == 1, "the spooled result was the one accepted; the job did not run again: \(runs.map(\.attempt))")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory.path)) ?? []).filter { $0.hasSuffix(".json") }.isEmpty)
        }
    }

    @Test(
        "a worker killed while its job runs gets the task back when it restarts, without waiting for the lease to expire",
        .timeLimit(.minutes(3)))
    func restartedWorkerGetsItsLeaseBack() async throws {
        // A lease TTL far beyond the test's limit: only the resend (decision 0016) can finish the study in time.
        try await Self.withCluster(leaseTTL: 600) { cluster, root, database in
            let spec = try Self.sleepingStudy(in: root, tasks: 1, seconds: 2)
            let id = try #require(UUID(uuidString: try await cluster.cli(["submit", spec.path]).split(separator: "\n").last.map(String.init) ?? ""))
            let worker = try cluster.startWorker(name: "crashing")
            try await Self.waitUntil { Self.pid(in: root, seed: 0) != nil }
            let job = try #require(Self.pid(in: root, seed: 0))
            worker.kill9()
            kill(job, SIGKILL)
            // Restarted with the same work directory: its first lease request names what it holds (nothing).
            try cluster.startWorker(name: "crashing")
            let client = CoordinatorClient(baseURL: cluster.coordinatorURLs[0], key: cluster.researcherKey)
            try await Self.waitUntil(.seconds(90)) { try await client.study(id).state == .completed }
            let runs = try await client.runs(id)
            #expect(runs.count == 1 && runs.allSatisfy(\.accepted), "\(runs.map { ($0.attempt, $0.outcome, $0.error ?? "") })")
            let attempts = try await database.client.query("SELECT attempts FROM tasks WHERE study_id = \(id)")
            for try await count in attempts.decode(Int.self) { #expect(count == 1, "the same lease, not a new attempt") }
        }
    }

    @Test(
        "results finished while the coordinator is down for twice the lease TTL are accepted, and no task runs twice",
        .timeLimit(.minutes(4)))
    func outageLongerThanLease() async throws {
        try await Self.withCluster { cluster, root, database in
            let spec = try Self.sleepingStudy(in: root, tasks: 2, seconds: 8)
            let id = try #require(UUID(uuidString: try await cluster.cli(["submit", spec.path]).split(separator: "\n").last.map(String.init) ?? ""))
            let worker = try cluster.startWorker(name: "outage", slots: 2)
            // Both jobs seen running (not necessarily at the same instant, on a loaded machine).
            var seen: Set<Int> = []
            try await Self.waitUntil {
                for seed in 0..<2 where Self.pid(in: root, seed: seed) != nil { seen.insert(seed) }
                return seen.count == 2
            }
            let port = Int(cluster.coordinatorURLs[0].split(separator: ":").last!)!
            cluster.coordinators[0].kill9()
            // Both jobs finish during the outage; their results wait in the spool.
            let spoolDirectory = cluster.logs.appendingPathComponent("work-outage/spool")
            try await Self.waitUntil(.seconds(30)) {
                ((try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory.path)) ?? [])
                    .filter { $0.hasSuffix(".json") }.count == 2
            }
            // Twice the lease TTL (6 s): every lease has expired when the coordinator returns, and its
            // reaper requeues them at once.
            try await Task.sleep(for: .seconds(12))
            try await cluster.startCoordinator(leaseTTL: 6, reaperInterval: 0.5, port: port)
            let client = CoordinatorClient(baseURL: cluster.coordinatorURLs[0], key: cluster.researcherKey)
            try await Self.waitUntil(.seconds(60)) { try await client.study(id).state == .completed }
            let runs = try await client.runs(id)
            #expect(runs.count == 2, "each task ran once: \(runs.map { ($0.taskID, $0.attempt, $0.outcome) })")
            #expect(runs.allSatisfy { $0.accepted })
            let attempts = try await database.client.query("SELECT max(attempts) FROM tasks WHERE study_id = \(id)")
            for try await maximum in attempts.decode(Int.self) { #expect(maximum == 1, "no task was leased again") }
            #expect(!worker.output.contains("result refused"), "\(worker.output.suffix(3000))")
        }
    }

    @Test("SIGTERM stops leasing, interrupts jobs after the grace period and hands their tasks back", .timeLimit(.minutes(3)))
    func gracefulShutdownInterruptsJobs() async throws {
        try await Self.withCluster { cluster, root, database in
            let spec = try Self.sleepingStudy(in: root, tasks: 2, seconds: 120)
            let id = try #require(UUID(uuidString: try await cluster.cli(["submit", spec.path]).split(separator: "\n").last.map(String.init) ?? ""))
            let worker = try cluster.startWorker(name: "term", slots: 2)
            var found: [Int: Int32] = [:]
            try await Self.waitUntil {
                for seed in 0..<2 { if let pid = Self.pid(in: root, seed: seed) { found[seed] = pid } }
                return found.count == 2
            }
            let pids = Array(found.values)
            worker.terminate()
            // --grace-period 5 in the cluster: the jobs are stopped after it, reported, and the worker exits 0.
            #expect(await worker.waitForExit(timeout: .seconds(40)))
            #expect(worker.exitStatus == 0)
            #expect(pids.allSatisfy { !Self.isAlive($0) })
            let rows = try await database.client.query(
                "SELECT state, attempts FROM tasks WHERE study_id = \(id) ORDER BY id")
            for try await (state, attempts) in rows.decode((String, Int).self) {
                #expect(state == "queued", "an interrupted task goes back to the queue")
                #expect(attempts == 0, "an interruption does not use up an attempt")
            }
            let interrupted = try await database.client.query(
                "SELECT count(*) FROM runs WHERE study_id = \(id) AND outcome = 'interrupted'")
            for try await count in interrupted.decode(Int64.self) { #expect(count == 2) }
        }
    }
}
