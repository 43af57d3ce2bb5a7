import Foundation
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproWorker

/// A stranger's training script that attacks the volunteer's machine (`Fixtures/hostile/probe.py`),
/// run by a real `repro-worker` through a real coordinator. Under `--isolation strict` every
/// attack must fail; the same study under `--isolation none` shows the attacks succeed, so the
/// test proves the sandbox is what blocks them.
@Suite("Hostile job", .serialized)
struct HostileJobTests {
    /// What one run of the hostile study left behind, seen from the job and from the host.
    struct Outcome {
        var runs: [RunRecord]
        var hostTmpMarker: Bool
        var markersOutsideJob: [String]
        var leftovers: [Int32]
        var venvIntact: Bool
        var workerLog: String

        func attack(_ name: String) -> [Double] { runs.map { $0.metrics[name] ?? -1 } }
    }

    static let fixture = Paths.repository.appendingPathComponent("Tests/EndToEndTests/Fixtures/hostile")

    /// Writes the hostile study (2 seeds, run at once on 2 slots so each can reach for the other),
    /// runs it on a fresh cluster with a worker started with `isolation`, and collects the evidence.
    static func runHostileStudy(isolation: String, cacheDirectory: URL, extra: [String] = []) async throws -> Outcome {
        let database = try await TestDatabase.create()
        let cluster = try Cluster(databaseURL: database.url)
        let root = try Paths.temporaryDirectory("reprogrid-hostile")
        defer {
            try? FileManager.default.removeItem(at: root)
        }
        var outcome: Outcome?
        do {
            let url = try await cluster.startCoordinator()
            try await cluster.createKeys()
            let port = try #require(URLComponents(string: url)?.port)
            let databaseURL = try #require(URLComponents(string: database.url))
            let socketDirectory = databaseURL.queryItems?.first { $0.name == "host" }?.value
            let work = cluster.logs.appendingPathComponent("work-hostile")
            let keyFile = cluster.logs.appendingPathComponent("coordinator.key")
            try Data("rg_decoy_admin_key\n".utf8).write(to: keyFile)
            chmod(keyFile.path, 0o600)
            let nonce = UUID().uuidString.lowercased().prefix(12)

            let study = root.appendingPathComponent("study")
            try FileManager.default.createDirectory(at: study, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: fixture.appendingPathComponent("probe.py"), to: study.appendingPathComponent("probe.py"))
            var targets: [String: Any] = [
                "token_file": work.appendingPathComponent("private/worker.json").path, "key_file": keyFile.path,
                "work_dir": work.path, "cache_dir": cacheDirectory.path, "spool_dir": work.appendingPathComponent("spool").path,
                "jobs_dir": work.appendingPathComponent("jobs").path, "nonce": String(nonce),
                "coordinator_host": "127.0.0.1", "coordinator_port": port, "neighbour_wait_seconds": 6,
                "linger_seconds": 3,
            ]
            if let dbPort = databaseURL.port { targets["database_port"] = dbPort }
            if let socketDirectory, let dbPort = databaseURL.port {
                targets["database_socket"] = "\(socketDirectory)/.s.PGSQL.\(dbPort)"
            }
            try JSONSerialization.data(withJSONObject: targets, options: [.sortedKeys])
                .write(to: study.appendingPathComponent("targets.json"))
            try Data("# the probe needs no packages\n".utf8).write(to: study.appendingPathComponent("requirements.txt"))
            try """
                preprint: {id: "arXiv:2405.06666", title: "A study whose code attacks its volunteers"}
                code: {bundle: .}
                environment: {python: {requirements: requirements.txt}}
                run:
                  command: ["python3", "probe.py", "--seed", "{seed}", "--dataset", "{dataset}"]
                  timeout: 2m
                  resources: {cpus: 1, memory: 1GiB, gpus: 0}
                  max_attempts: 1
                matrix:
                  seeds: {from: 0, count: 2}
                  datasets: [probe]
                """.write(to: study.appendingPathComponent("study.yaml"), atomically: true, encoding: .utf8)

            // The volunteer key on the command line on purpose: even then a strict job cannot read it.
            let worker = try cluster.startWorker(
                name: "hostile", slots: 2, extra: ["--isolation", isolation, "--cache-dir", cacheDirectory.path] + extra)
            let submitted = try await cluster.cli(["submit", "--new", study.appendingPathComponent("study.yaml").path])
            let idLine = try #require(submitted.split(separator: "\n").last { UUID(uuidString: String($0)) != nil })
            let studyID = try #require(UUID(uuidString: String(idLine)))
            let client = CoordinatorClient(baseURL: url, key: cluster.researcherKey)
            let deadline = ContinuousClock.now + .seconds(300)
            var status = try await client.study(studyID)
            while !status.isFinished && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
                status = try await client.study(studyID)
            }
            #expect(status.isFinished, "the hostile study did not finish: \(status.tasks)")
            let runs = try await client.runs(studyID)
            let venvs = cacheDirectory.appendingPathComponent("venvs")
            let environments = ((try? FileManager.default.contentsOfDirectory(atPath: venvs.path)) ?? [])
                .filter { !$0.contains(".") }.map { venvs.appendingPathComponent($0) }
            let marker = "repro-probe-\(nonce)"
            let outside = [work, work.appendingPathComponent("spool"), work.appendingPathComponent("jobs"), cacheDirectory]
                .map { $0.appendingPathComponent(marker).path }.filter { FileManager.default.fileExists(atPath: $0) }
            let leftovers = HostProcesses.matching(marker)
            outcome = Outcome(
                runs: runs, hostTmpMarker: FileManager.default.fileExists(atPath: "/tmp/\(marker)"),
                markersOutsideJob: outside, leftovers: leftovers,
                venvIntact: environments.allSatisfy { VirtualEnvSeal.isIntact($0) }, workerLog: worker.output)
            for pid in leftovers { kill(pid, SIGKILL) }
            for path in outside + ["/tmp/\(marker)"] { unlink(path) }
        } catch {
            Issue.record("hostile study failed: \(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        try await database.drop()
        return try #require(outcome)
    }

    static let attacks = [
        "attack_token_file", "attack_cmdline_key", "attack_worker_environ", "attack_signal_worker", "attack_key_file",
        "attack_shadow", "attack_root_uid", "attack_home_visible", "attack_other_job", "attack_venv_write",
        "attack_coordinator", "attack_database",
    ]

    @Test("strict: every attack of a hostile job fails, and the job still runs", .timeLimit(.minutes(8)))
    func strictBlocksEverything() async throws {
        let cache = try Paths.temporaryDirectory("reprogrid-hostile-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let outcome = try await Self.runHostileStudy(isolation: "strict", cacheDirectory: cache)
        #expect(outcome.runs.count == 2, "\(outcome.workerLog.suffix(3000))")
        for run in outcome.runs {
            #expect(run.outcome == .succeeded, "\(run.error ?? "") \(outcome.workerLog.suffix(3000))")
            for attack in Self.attacks {
                #expect(run.metrics[attack] == 0, "\(attack) worked under strict isolation (seed \(run.seed))")
            }
            #expect(run.metrics["own_value"] == 1, "a neighbour forged this run's result")
        }
        #expect(!outcome.hostTmpMarker, "the job wrote into the host's /tmp")
        #expect(outcome.markersOutsideJob.isEmpty, "the job wrote \(outcome.markersOutsideJob)")
        #expect(outcome.leftovers.isEmpty, "a process of the job outlived it")
        #expect(outcome.venvIntact, "the cached virtualenv changed")
        #expect(outcome.workerLog.contains("isolation strict"))
    }

    @Test("none: the same attacks succeed, so the sandbox is what blocks them", .timeLimit(.minutes(8)))
    func noneLetsThemThrough() async throws {
        let cache = try Paths.temporaryDirectory("reprogrid-hostile-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        let outcome = try await Self.runHostileStudy(isolation: "none", cacheDirectory: cache)
        #expect(outcome.runs.count == 2)
        func anyRun(_ attack: String) -> Bool { outcome.attack(attack).contains(1) }
        for attack in [
            "attack_token_file", "attack_cmdline_key", "attack_worker_environ", "attack_signal_worker",
            "attack_other_job", "attack_venv_write", "attack_coordinator", "attack_database",
        ] {
            #expect(anyRun(attack), "\(attack) failed without isolation too: the test would prove nothing")
        }
        if getuid() == 0 {
            // A root worker without isolation runs jobs as root.
            #expect(anyRun("attack_root_uid") && anyRun("attack_shadow") && anyRun("attack_key_file"))
        }
        #expect(outcome.runs.contains { $0.metrics["own_value"] == 666 }, "the forged value reached an accepted run")
        #expect(outcome.hostTmpMarker)
        #expect(!outcome.markersOutsideJob.isEmpty, "the job wrote into the worker's folders")
        #expect(!outcome.leftovers.isEmpty, "a setsid child outlives an unisolated job")
        #expect(!outcome.venvIntact, "the job changed the shared virtualenv")
        #expect(outcome.workerLog.contains("isolation none"))
    }

    @Test("a cached virtualenv tampered with after its build is rebuilt before the next job", .timeLimit(.minutes(8)))
    func tamperedVenvRebuilt() async throws {
        let cache = try Paths.temporaryDirectory("reprogrid-hostile-cache")
        defer { try? FileManager.default.removeItem(at: cache) }
        // An unisolated run writes a .pth into the environment; the strict run after it must notice.
        // The same Python for both, so both runs use the same cached environment.
        let python = ["--python", "/usr/bin/python3"]
        let first = try await Self.runHostileStudy(isolation: "none", cacheDirectory: cache, extra: python)
        #expect(!first.venvIntact)
        let second = try await Self.runHostileStudy(isolation: "strict", cacheDirectory: cache, extra: python)
        #expect(second.workerLog.contains("virtualenv changed since it was sealed"), "\(second.workerLog.suffix(3000))")
        #expect(second.venvIntact)
        for run in second.runs {
            #expect(run.metrics["attack_venv_write"] == 0)
        }
    }
}

