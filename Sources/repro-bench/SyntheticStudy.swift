import Foundation
import ReproCoordinator
import ReproCore

/// A large synthetic study for the report benchmark: `datasets` × `seedsPerDataset` × `replicas` runs,
/// each reporting every metric, with a dataset effect, a seed effect shared by replicas, and
/// per-replica noise, so every part of the report (summaries, bootstrap, claims, seed/repeat variance,
/// hardware split, ANOVA) has real work to do. Deterministic: the same arguments give the same rows.
struct SyntheticStudy: Sendable {
    static let metrics = ["accuracy", "f1", "loss"]

    let datasets: [String]
    let seedsPerDataset: Int
    let replicas: Int

    init(runs: Int, datasetCount: Int, replicas: Int) {
        datasets = (0..<datasetCount).map { "dataset\($0)" }
        self.replicas = replicas
        seedsPerDataset = max(1, runs / (datasetCount * replicas))
    }

    var runCount: Int { datasets.count * seedsPerDataset * replicas }

    /// One row per run and metric; replicas alternate between two hardware classes.
    func values() -> [RunValue] {
        // The calibration's seeded generator: the synthetic data is the same on every run.
        var generator = SimulationRandom(seed: 20_240_101)
        // Fixed ids, so two builds of the report can be compared byte for byte.
        let workers = (0..<32).map { UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", $0))! }
        var rows: [RunValue] = []
        rows.reserveCapacity(runCount * Self.metrics.count)
        var runID: Int64 = 0
        for (datasetIndex, dataset) in datasets.enumerated() {
            let offset = Double(datasetIndex) * 0.004
            for seed in 0..<seedsPerDataset {
                let seedEffect = generator.normal() * 0.01
                for replica in 0..<replicas {
                    runID += 1
                    let worker = workers[Int(runID) % workers.count]
                    let hardware = replica % 2 == 0 ? "cpu-a" : "cpu-b"
                    let noise = generator.normal() * 0.003
                    let accuracy = 0.90 + offset + seedEffect + noise
                    let metricValues = [accuracy, accuracy - 0.02 + generator.normal() * 0.002, 0.3 - 2 * seedEffect + noise]
                    for (metric, value) in zip(Self.metrics, metricValues) {
                        rows.append(
                            RunValue(
                                runID: runID, workerID: worker, dataset: dataset, configuration: nil, seed: Int64(seed),
                                replica: replica, hardwareClass: hardware, metric: metric, value: value))
                    }
                }
            }
        }
        return rows
    }

    /// The matching spec, parsed the way the server parses a submission, with claims of every direction.
    func spec() throws -> StudySpec {
        let bundle = "sha256:" + String(repeating: "ab", count: 32)
        let yaml = """
            preprint:
              id: "arXiv:2401.08888"
              title: "Report benchmark"
              authors: ["Bench Mark"]
              institutions: ["ReproGrid"]
              field: "cs.LG"
            code:
              bundle: "\(bundle)"
            run:
              command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}"]
              timeout: 5m
              resources: {cpus: 1, memory: 1GiB, gpus: 0}
            matrix:
              seeds: {from: 0, count: \(seedsPerDataset)}
              datasets: [\(datasets.joined(separator: ", "))]
              replicas: \(replicas)
            claims:
              - {metric: accuracy, dataset: dataset0, value: 0.90, direction: higher, tolerance: 0.01}
              - {metric: accuracy, dataset: \(datasets[datasets.count - 1]), value: 0.97, direction: higher}
              - {metric: loss, dataset: dataset1, value: 0.30, direction: lower, tolerance: 0.005}
              - {metric: f1, dataset: dataset2, value: 0.888, direction: equal, tolerance: 0.01}
              - {metric: precision, dataset: dataset3, value: 0.8, direction: higher}
            """
        return try StudySpec.parse(
            Data(yaml.utf8), limits: SpecLimits(maxTasks: max(runCount, SpecLimits.default.maxTasks)), context: .server)
    }
}
