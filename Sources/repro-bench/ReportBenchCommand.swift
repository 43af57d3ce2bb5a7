import ArgumentParser
import Foundation
import ReproCoordinator
import ReproCore

/// `repro-bench report`: times `ReportBuilder.build` on a synthetic study (issue 4).
struct ReportBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Time the report of a large synthetic study (bootstrap included); prints the median of the runs.")

    @Option(help: "Accepted runs in the study (default 100000).")
    var runs = 100_000

    @Option(help: "Datasets (default 10); every run reports 3 metrics.")
    var datasets = 10

    @Option(help: "Replicas per seed (default 2, so the seed/repeat variance is computed).")
    var replicas = 2

    @Option(help: "Timed repetitions (default 5).")
    var repetitions = 5

    @Option(help: "Write the report's JSON here (to check that a change keeps the output identical).")
    var saveJSON: String?

    func validate() throws {
        // The synthetic spec's claims name dataset0 to dataset3 and the last dataset.
        guard runs >= 1, datasets >= 4, replicas >= 1, (1...50).contains(repetitions) else {
            throw ValidationError("runs and replicas must be positive, datasets at least 4; repetitions 1…50.")
        }
    }

    func run() async throws {
        let study = SyntheticStudy(runs: runs, datasetCount: datasets, replicas: replicas)
        let spec = try study.spec()
        let values = study.values()
        print("== report: \(study.runCount) runs, \(datasets) datasets × \(SyntheticStudy.metrics.count) metrics, "
            + "\(replicas) replicas, \(values.count) values, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var tasks = TaskCounts()
        tasks.add(.succeeded, study.runCount)
        // A fixed id and clock, so the JSON of every repetition (and of every build) can be compared.
        let studyID = UUID(uuidString: "00000000-0000-0000-0000-000000000004")!
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        var times: [Duration] = []
        var digests: Set<UInt64> = []
        var json = Data()
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            let report = ReportBuilder.build(
                studyID: studyID, preprintID: spec.preprint.id, title: spec.preprint.title, state: .completed,
                tasks: tasks, spec: spec, values: values, now: now)
            times.append(ContinuousClock.now - start)
            let encoder = WireCoding.encoder()
            encoder.outputFormatting.insert(.sortedKeys)
            json = try encoder.encode(report)
            digests.insert(Self.fnv1a(json))
        }
        let seconds = times.map(\.seconds).sorted()
        print("report time:        median \(Format.fixed(seconds[seconds.count / 2], 3)) s, "
            + "min \(Format.fixed(seconds[0], 3)) s, max \(Format.fixed(seconds[seconds.count - 1], 3)) s "
            + "(\(repetitions) runs: \(seconds.map { Format.fixed($0, 3) }.joined(separator: ", ")))")
        print("report digest:      \(String(digests.first!, radix: 16)) (\(json.count) bytes of JSON"
            + (digests.count == 1 ? ", identical in every run)" : ", DIFFERS between runs)"))
        if let saveJSON { try json.write(to: URL(fileURLWithPath: saveJSON)) }
    }

    /// FNV-1a of the bytes: enough to tell two reports apart without a crypto dependency.
    static func fnv1a(_ data: Data) -> UInt64 {
        data.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
