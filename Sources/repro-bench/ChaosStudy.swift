import Foundation
import ReproCore

/// The study of a chaos run: `tasks` trivial Python jobs (10 datasets × tasks/10 seeds), each sleeping
/// 50 ms and printing one metric, with a claim so the preprint gets a score.
enum ChaosStudy {
    /// Writes study.yaml and its script into `root/study`; returns the spec's path.
    static func write(in root: URL, tasks: Int, preprint: String) throws -> URL {
        let directory = root.appendingPathComponent("study")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
        import sys, time
        time.sleep(0.05)
        print("REPRO_METRIC accuracy=%.4f" % (0.9 + int(sys.argv[2]) % 7 / 100))
        """.write(to: directory.appendingPathComponent("noop.py"), atomically: true, encoding: .utf8)
        let datasets = (0..<10).map { "d\($0)" }.joined(separator: ", ")
        // max_attempts well above the default 3: the run counts attempts, it must not fail tasks for good.
        let spec = directory.appendingPathComponent("study.yaml")
        try """
        preprint: {id: "\(preprint)", title: "Chaos run"}
        code: {bundle: .}
        run:
          command: ["python3", "noop.py", "--seed", "{seed}", "--dataset", "{dataset}"]
          timeout: 1m
          resources: {cpus: 1, memory: 256MiB, gpus: 0}
          max_attempts: 20
        matrix:
          seeds: {from: 0, count: \(tasks / 10)}
          datasets: [\(datasets)]
        claims:
          - {metric: accuracy, dataset: d0, value: 0.92, direction: higher, tolerance: 0.05}
        """.write(to: spec, atomically: true, encoding: .utf8)
        return spec
    }

    /// A result for a lease that never existed: the coordinator must look it up and refuse it.
    static func strayResult() -> TaskResult {
        TaskResult(
            taskID: Int64.random(in: (1 << 50)..<(1 << 60)), leaseID: UUID(), outcome: .succeeded, exitCode: 0,
            durationSeconds: 0,
            metrics: ["accuracy": 0.5], error: nil, logTail: nil, fingerprint: nil, hardwareClass: "probe")
    }
}
