import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import ReproClient
import ReproCoordinator
import ReproCore
import Synchronization

/// `repro-bench expand`: submitting a very large study (issue 16) and what a task costs the database
/// (issue 11, defect 9). The coordinator runs as its own process, so its memory is its own.
struct ExpandBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract: "Measure submission of a large study (time, coordinator memory) and database bytes per task.",
        discussion: """
            Starts the coordinator (--coordinator, a release build, with --max-tasks raised to --tasks) over a \
            fresh database. Submits --repetitions studies of --tasks tasks (10 datasets × tasks/10 seeds) \
            through the API, timing each request and sampling the coordinator's VmRSS every 10 ms; prints \
            each time, the peak RSS while it ran and VmHWM. Then submits two studies of --growth-tasks tasks \
            that differ only in their command's length (--short-command-bytes, --long-command-bytes) and \
            prints how much the tasks table and the whole database grew per task for each.
            """)

    @OptionGroup var spawned: SpawnedCoordinatorOptions

    @Option(help: "Tasks of the large study (default 1000000).") var tasks = 1_000_000
    @Option(help: "Large studies submitted, one after another (default 3).") var repetitions = 3
    @Option(help: "Tasks of each growth study (default 10000).") var growthTasks = 10_000
    @Option(help: "Approximate command length of the first growth study, in bytes (default 100).")
    var shortCommandBytes = 100
    @Option(help: "Approximate command length of the second growth study, in bytes (default 200000).")
    var longCommandBytes = 200_000

    func validate() throws {
        guard tasks >= 10, tasks % 10 == 0, growthTasks >= 10, growthTasks % 10 == 0 else {
            throw ValidationError("--tasks and --growth-tasks must be multiples of 10.")
        }
        guard repetitions >= 1, longCommandBytes < 250_000 else {
            throw ValidationError("--repetitions ≥ 1; --long-command-bytes must leave the spec under 256 KiB.")
        }
    }

    func run() async throws {
        try await spawned.run(extra: ["--max-tasks", "\(max(tasks, growthTasks))"]) { process, database, logger in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await measure(process: process, database: database, http: http, logger: logger)
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    private func measure(process: CoordinatorProcess, database: BenchDatabase, http: HTTPClient, logger: Logger)
        async throws
    {
        let admin = CoordinatorClient(baseURL: process.baseURL, key: process.adminKey, http: http)
        let account = try await admin.createAccount(name: "bench-researcher", roles: [.researcher])
        _ = try await admin.setTrusted(account.accountID, trusted: true, reason: "benchmark")
        let researcher = CoordinatorClient(baseURL: process.baseURL, key: account.key, http: http)
        let archive = Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]) + Data(repeating: 0, count: 20)
        let bundle = "sha256:" + (try await researcher.uploadBundle(archive)).sha256
        let idle = try process.memory()
        print("== expand: \(tasks) tasks × \(repetitions), coordinator pid \(process.pid), idle RSS \(idle.resident / 1024) MiB")

        for repetition in 0..<repetitions {
            let spec = Self.spec(bundle: bundle, tasks: tasks, commandBytes: 60, preprint: "arXiv:2402.\(10000 + repetition)")
            let peak = Mutex(0)
            let sampler = Task {
                while !Task.isCancelled {
                    if let now = try? process.memory().resident { peak.withLock { $0 = max($0, now) } }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            let started = ContinuousClock.now
            let data = try await researcher.send(
                .POST, "/v1/studies", body: Data(spec.utf8), contentType: "application/yaml", timeout: .minutes(10))
            let elapsed = ContinuousClock.now - started
            sampler.cancel()
            _ = await sampler.result
            let created = try WireCoding.decoder().decode(StudyCreated.self, from: data)
            guard created.taskCount == tasks else { throw BenchError("the study has \(created.taskCount) tasks") }
            let memory = try process.memory()
            print(
                "submit \(repetition + 1): \(Format.fixed(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 2)) s · RSS peak while submitting "
                    + "\(peak.withLock { $0 } / 1024) MiB · after \(memory.resident / 1024) MiB · VmHWM \(memory.peak / 1024) MiB")
        }

        // Growth per task: two studies that differ only in the command's length.
        let client = PostgresClient(configuration: try database.url.configuration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        func sizes() async throws -> (tasks: Int64, database: Int64) {
            try await client.query("CHECKPOINT", logger: logger)
            let rows = try await client.query(
                "SELECT pg_total_relation_size('tasks'), pg_database_size(current_database())", logger: logger)
            for try await row in rows.decode((Int64, Int64).self) { return row }
            throw BenchError("no sizes")
        }
        print("== growth per task: \(growthTasks) tasks per study, commands of ~\(shortCommandBytes) B and ~\(longCommandBytes) B")
        for (index, bytes) in [shortCommandBytes, longCommandBytes].enumerated() {
            let before = try await sizes()
            let spec = Self.spec(bundle: bundle, tasks: growthTasks, commandBytes: bytes, preprint: "arXiv:2403.\(10000 + index)")
            _ = try await researcher.send(
                .POST, "/v1/studies", body: Data(spec.utf8), contentType: "application/yaml", timeout: .minutes(10))
            let after = try await sizes()
            let perTask = Double(after.tasks - before.tasks) / Double(growthTasks)
            let perTaskAll = Double(after.database - before.database) / Double(growthTasks)
            print(
                "command ~\(bytes) B (spec \(spec.utf8.count) B): tasks table +\(Format.fixed(perTask, 1)) B/task, "
                    + "database +\(Format.fixed(perTaskAll, 1)) B/task")
        }
    }

    /// 10 datasets × `tasks / 10` seeds, one replica; the command padded with literal arguments to about
    /// `commandBytes`.
    static func spec(bundle: String, tasks: Int, commandBytes: Int, preprint: String) -> String {
        let pads = max(0, commandBytes - 60) / 1000
        let rest = max(0, commandBytes - 60) % 1000
        var padding = (0..<pads).map { _ in "\"--pad=\(String(repeating: "x", count: 990))\"" }
        if rest > 10 { padding.append("\"--pad=\(String(repeating: "y", count: rest - 10))\"") }
        let command = (["\"python3\"", "\"train.py\"", "\"--seed\"", "\"{seed}\"", "\"--dataset\"", "\"{dataset}\""] + padding)
            .joined(separator: ", ")
        let datasets = (0..<10).map { "d\($0)" }.joined(separator: ", ")
        return """
            preprint:
              id: "\(preprint)"
              title: "Expansion benchmark"
              authors: ["Bench Mark"]
              institutions: ["ReproGrid"]
              field: "cs.DC"
            code:
              bundle: "\(bundle)"
            run:
              command: [\(command)]
              timeout: 5m
              resources: {cpus: 1, memory: 1GiB, gpus: 0}
              max_attempts: 3
            matrix:
              seeds: {from: 0, count: \(tasks / 10)}
              datasets: [\(datasets)]
              replicas: 1
            claims:
              - {metric: score, dataset: d0, value: 0.5, direction: higher, tolerance: 0.01}
            """
    }
}
