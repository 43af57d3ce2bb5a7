import ArgumentParser
import Foundation
import Logging
import ReproWorker

/// `repro-bench sandbox`: the per-task cost of job isolation (issue 9). Runs trivial tasks through the
/// worker's real task path (job folder, bundle from the local cache, metrics) under `strict` and
/// `none`, interleaved one by one so both see the same machine load, and prints both distributions
/// and their difference.
struct SandboxBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Per-task overhead of --isolation strict against none, on trivial tasks.")

    @Option(help: "Tasks per isolation level (default 100).")
    var tasks = 100

    @Option(help: "Scratch directory (made afresh; default /tmp/repro-bench-sandbox).")
    var workDirectory = "/tmp/repro-bench-sandbox"

    @Flag(help: "Trivial Python tasks (`python3 -c …`) instead of a shell one.")
    var python = false

    func validate() throws {
        guard (1...10_000).contains(tasks) else { throw ValidationError("--tasks must be 1…10000.") }
    }

    func run() async throws {
        var logger = Logger(label: "repro.bench.sandbox")
        logger.logLevel = .warning
        let root = URL(fileURLWithPath: workDirectory)
        try? FileManager.default.removeItem(at: root)
        let command = python
            ? ["python3", "-c", "print('REPRO_METRIC x=1')"] : ["/bin/sh", "-c", "echo REPRO_METRIC x=1"]
        var runners: [(IsolationLevel, LocalBundleRunner)] = []
        for level in [IsolationLevel.strict, .none] {
            let directory = root.appendingPathComponent(level.rawValue)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            chmod(directory.path, 0o755)
            runners.append(
                (level,
                 try await LocalBundleRunner.prepare(
                    isolation: level, workDirectory: directory, python: nil,
                    files: ["README": Data("trivial\n".utf8)], requirements: nil, logger: logger)))
        }
        print("== sandbox overhead: \(tasks) trivial tasks per level (\(command.joined(separator: " "))), interleaved, "
            + "\(ProcessInfo.processInfo.activeProcessorCount) cores")
        // One warm-up each (first spawn, fingerprint), not counted.
        for (_, runner) in runners { _ = await runner.run(command, seed: 0) }
        var samples: [IsolationLevel: [Duration]] = [:]
        for index in 0..<tasks {
            for (level, runner) in (index % 2 == 0 ? runners : runners.reversed()) {
                let started = ContinuousClock.now
                let result = await runner.run(command, seed: Int64(index + 1))
                let elapsed = ContinuousClock.now - started
                guard result.outcome == .succeeded else {
                    throw ValidationError("a \(level.rawValue) task failed: \(result.error ?? "?")\n\(result.logTail ?? "")")
                }
                samples[level, default: []].append(elapsed)
            }
        }
        let strict = LatencyDistribution(samples[.strict] ?? [])
        let none = LatencyDistribution(samples[.none] ?? [])
        func mean(_ values: [Duration]) -> Double { values.map(\.milliseconds).reduce(0, +) / Double(max(1, values.count)) }
        let strictMean = mean(samples[.strict] ?? [])
        let noneMean = mean(samples[.none] ?? [])
        print("strict: mean \(Format.fixed(strictMean, 2)) ms, \(strict.summary)")
        print("none:   mean \(Format.fixed(noneMean, 2)) ms, \(none.summary)")
        print("overhead of strict per task: mean \(Format.fixed(strictMean - noneMean, 2)) ms, median "
            + "\(Format.fixed((strict.percentile(50) ?? 0) - (none.percentile(50) ?? 0), 2)) ms (target < 50 ms)")
        try? FileManager.default.removeItem(at: root)
    }
}
