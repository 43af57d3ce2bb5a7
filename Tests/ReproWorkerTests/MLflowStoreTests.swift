import Foundation
import Testing

@testable import ReproWorker

/// The MLflow file store a job writes is read like `metrics.json`: hostile input (links, huge files,
/// odd names) fails the run with a message naming the file, and never reads outside the store.
@Suite("MLflowStore")
struct MLflowStoreTests {
    /// Writes `mlruns/1/<run>/{metrics,params,tags}` under a fresh output folder.
    struct Store {
        let output: TemporaryDirectory
        var run: URL { output.url.appending(path: "mlruns/1/abc123") }

        init(metrics: [String: String] = [:], params: [String: String] = [:], tags: [String: String] = [:]) throws {
            output = try TemporaryDirectory()
            let fm = FileManager.default
            try fm.createDirectory(at: output.url.appending(path: "mlruns/1"), withIntermediateDirectories: true)
            try Data("name: reprogrid\n".utf8).write(to: output.url.appending(path: "mlruns/1/meta.yaml"))
            for (folder, files) in [("metrics", metrics), ("params", params), ("tags", tags)] {
                try fm.createDirectory(at: run.appending(path: folder), withIntermediateDirectories: true)
                for (name, content) in files { try Data(content.utf8).write(to: run.appending(path: "\(folder)/\(name)")) }
            }
            try Data("run_id: abc123\n".utf8).write(to: run.appending(path: "meta.yaml"))
        }

        func read(task: Int64 = 7) throws(MetricsError) -> MLflowStore.Run? {
            try MLflowStore().read(outputDirectory: output.url, task: task)
        }
    }

    @Test("the value at the highest step wins, the last logged at that step")
    func highestStep() throws {
        let store = try Store(
            metrics: [
                "accuracy": "1700000000000 0.5 0\n1700000000001 0.9 2\n1700000000002 0.7 1\n1700000000003 0.91 2\n",
                "loss": "1700000000000 0.25 0\n",
            ],
            params: ["C": "1.0", "model": "LogisticRegression"], tags: ["reprogrid.task_id": "7"])
        let run = try #require(try store.read())
        #expect(run.metrics == ["accuracy": 0.91, "loss": 0.25])
        #expect(run.params == ["C": "1.0", "model": "LogisticRegression"])
        #expect(run.path == "mlruns/1/abc123")
    }

    @Test("no store, or a store without runs, gives nothing")
    func noStore() throws {
        let empty = try TemporaryDirectory()
        #expect(try MLflowStore().read(outputDirectory: empty.url, task: 1) == nil)
        let store = try Store()
        #expect(try store.read() == nil)
    }

    @Test("a run tagged for another task is not this task's")
    func otherTask() throws {
        let store = try Store(metrics: ["accuracy": "1 0.9 0\n"], tags: ["reprogrid.task_id": "8"])
        #expect(try store.read(task: 7) == nil)
    }

    @Test("two runs for one task are refused, naming both")
    func twoRuns() throws {
        let store = try Store(metrics: ["accuracy": "1 0.9 0\n"])
        let second = store.output.url.appending(path: "mlruns/1/def456/metrics")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try Data("1 0.8 0\n".utf8).write(to: second.appending(path: "accuracy"))
        let error = #expect(throws: MetricsError.self) { try store.read() }
        #expect(error?.message.contains("mlruns/1/abc123") == true && error?.message.contains("mlruns/1/def456") == true)
    }

    @Test("a metric file that links to a file of the worker's is refused, not read")
    func symlinkedMetric() throws {
        let store = try Store(metrics: [:])
        let secret = store.output.url.appending(path: "token")
        try Data("1 42 0\n".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(
            at: store.run.appending(path: "metrics/accuracy"), withDestinationURL: secret)
        let error = #expect(throws: MetricsError.self) { try store.read() }
        #expect(error?.message.contains("symbolic link") == true)
        #expect(error?.message.contains("mlruns/1/abc123/metrics/accuracy") == true)
    }

    @Test("a linked store or run folder is refused")
    func symlinkedFolders() throws {
        let store = try Store(metrics: ["accuracy": "1 0.9 0\n"])
        let elsewhere = try TemporaryDirectory()
        try FileManager.default.moveItem(at: store.run, to: elsewhere.url.appending(path: "run"))
        try FileManager.default.createSymbolicLink(at: store.run, withDestinationURL: elsewhere.url.appending(path: "run"))
        #expect(throws: MetricsError.self) { try store.read() }

        let linkedStore = try TemporaryDirectory()
        try FileManager.default.createSymbolicLink(
            at: linkedStore.url.appending(path: "mlruns"), withDestinationURL: store.output.url.appending(path: "mlruns"))
        let error = #expect(throws: MetricsError.self) { try MLflowStore().read(outputDirectory: linkedStore.url, task: 7) }
        #expect(error?.message.contains("symbolic link") == true)
    }

    @Test("oversized files and folders are refused")
    func bounds() throws {
        let store = try Store(metrics: ["accuracy": String(repeating: "1 0.9 0\n", count: 20)])
        var reader = MLflowStore()
        reader.maximumMetricFileBytes = 100
        let error = #expect(throws: MetricsError.self) { try reader.read(outputDirectory: store.output.url, task: 7) }
        #expect(error?.message.contains("more than the 100 allowed") == true)

        var few = MLflowStore()
        few.maximumEntries = 2
        let crowded = try Store(metrics: ["a": "1 1 0\n", "b": "1 1 0\n", "c": "1 1 0\n"])
        #expect(throws: MetricsError.self) { try few.read(outputDirectory: crowded.output.url, task: 7) }
    }

    @Test("NaN, malformed lines and names with a slash fail with the file named")
    func badContent() throws {
        let nan = try Store(metrics: ["loss": "1 nan 0\n"])
        let nanError = #expect(throws: MetricsError.self) { try nan.read() }
        #expect(nanError?.code == .invalidValue)
        #expect(nanError?.message.contains("metrics/loss line 1") == true)

        let garbled = try Store(metrics: ["loss": "hello\n"])
        #expect(throws: MetricsError.self) { try garbled.read() }

        let nested = try Store(metrics: [:])
        try FileManager.default.createDirectory(
            at: nested.run.appending(path: "metrics/val"), withIntermediateDirectories: true)
        try Data("1 0.5 0\n".utf8).write(to: nested.run.appending(path: "metrics/val/loss"))
        let nameError = #expect(throws: MetricsError.self) { try nested.read() }
        #expect(nameError?.code == .invalidName)
    }

    // MARK: combining with metrics.json / REPRO_METRIC

    private func mlflowRun(_ metrics: [String: Double]) -> MLflowStore.Run {
        MLflowStore.Run(path: "mlruns/1/abc", metrics: metrics, params: [:], tags: [:])
    }

    @Test("MLflow metrics count alone, or together with agreeing metrics.json ones")
    func combine() throws {
        let none = MetricsError(.noMetrics, "no metrics")
        #expect(try MLflowStore.combine(reported: .failure(none), mlflow: mlflowRun(["accuracy": 0.9])) == ["accuracy": 0.9])
        #expect(
            try MLflowStore.combine(reported: .success(["accuracy": 0.9, "f1": 0.8]), mlflow: mlflowRun(["accuracy": 0.9]))
                == ["accuracy": 0.9, "f1": 0.8])
        #expect(throws: MetricsError.self) { try MLflowStore.combine(reported: .failure(none), mlflow: nil) }
        let bad = MetricsError(.malformedLine, "stdout line 3")
        #expect(throws: MetricsError.self) { try MLflowStore.combine(reported: .failure(bad), mlflow: mlflowRun(["a": 1])) }
    }

    @Test("a metric MLflow and metrics.json disagree on fails, naming both")
    func conflict() throws {
        let error = #expect(throws: MetricsError.self) {
            try MLflowStore.combine(reported: .success(["accuracy": 0.97]), mlflow: mlflowRun(["accuracy": 0.95]))
        }
        #expect(error?.code == .conflictingValues)
        #expect(error?.message.contains("metrics.json") == true)
        #expect(error?.message.contains("mlruns/1/abc/metrics/accuracy") == true)
    }

    @Test("the environment points MLflow inside the output folder and tags the run")
    func environment() throws {
        let study = UUID()
        let output = URL(fileURLWithPath: "/jobs/x/output")
        let environment = MLflowStore.environment(outputDirectory: output, study: study, task: 12, dataset: "wine", seed: 3)
        #expect(environment["MLFLOW_TRACKING_URI"] == "file:///jobs/x/output/mlruns")
        #expect(environment["MLFLOW_EXPERIMENT_NAME"] == "reprogrid-\(study.uuidString.lowercased())")
        let tags = try JSONSerialization.jsonObject(with: Data(environment["MLFLOW_RUN_CONTEXT"]!.utf8)) as? [String: String]
        #expect(tags?["reprogrid.task_id"] == "12")
        #expect(tags?["reprogrid.seed"] == "3")
    }
}
