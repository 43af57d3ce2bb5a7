import Dispatch
import Foundation
import ReproCore
import ReproStats
import Synchronization

/// One accepted run's value of one metric: the rows a report is computed from.
public struct RunValue: Sendable {
    public var runID: Int64
    public var workerID: UUID
    public var dataset: String
    public var configuration: String?
    public var seed: Int64
    public var replica: Int
    public var hardwareClass: String?
    public var metric: String
    public var value: Double
    /// The isolation the run's worker reported in its fingerprint.
    public var isolation: RunIsolation

    /// Creates a row.
    public init(
        runID: Int64, workerID: UUID, dataset: String, configuration: String?, seed: Int64, replica: Int,
        hardwareClass: String?, metric: String, value: Double, isolation: RunIsolation = .unknown
    ) {
        self.runID = runID
        self.workerID = workerID
        self.dataset = dataset
        self.configuration = configuration
        self.seed = seed
        self.replica = replica
        self.hardwareClass = hardwareClass
        self.metric = metric
        self.value = value
        self.isolation = isolation
    }
}

/// Computes a study's report from its accepted runs: pure, no I/O, so it can be tested and timed alone.
public enum ReportBuilder {
    /// Bootstrap settings of every report: 9 999 BCa resamples with seed 0 (statistics.md), capped at
    /// 2·10⁷ draws per cell, so cells up to 2 000 runs get all 9 999 resamples and larger ones at least
    /// 999. Without the cap a 100 000-run report spends seconds on intervals that, at that n, agree with
    /// the t-interval to the third digit. The settings are in every report (`bootstrap`).
    public static let bootstrap = BootstrapOptions(maxDraws: 20_000_000)

    struct CellKey: Hashable, Comparable {
        var dataset: String
        var configuration: String
        var metric: String

        static func < (a: CellKey, b: CellKey) -> Bool {
            (a.dataset, a.configuration, a.metric) < (b.dataset, b.configuration, b.metric)
        }
    }

    /// The claims of a spec as ReproStats claims.
    public static func claims(of spec: StudySpec) -> [(configuration: String?, claim: Claim)] {
        spec.claims.map { claim in
            let direction: Claim.Direction
            switch claim.direction {
            case .higher: direction = .higher
            case .lower: direction = .lower
            case .equal: direction = .equal
            }
            return (
                claim.configuration,
                Claim(
                    metric: claim.metric, dataset: claim.dataset, value: claim.value, direction: direction,
                    tolerance: claim.tolerance, range: boundedRange(spec.metrics?[claim.metric]))
            )
        }
    }

    /// A metric declared bounded on both sides (`metrics: {accuracy: {min: 0, max: 1}}`) has its claims'
    /// intervals computed on the logit scale of that range (docs/statistics.md §2a); nil otherwise.
    static func boundedRange(_ range: MetricRange?) -> Interval? {
        guard let range, let lower = range.min, let upper = range.max, lower.isFinite, upper.isFinite, lower < upper
        else { return nil }
        return Interval(lower: lower, upper: upper)
    }

    /// The values a claim is judged on: one per seed, the seed's mean when it ran more than once
    /// (``ClaimJudge/seedValues(_:)``). The summaries of §1 still count every run.
    public static func claimValues(_ rows: [RunValue]) -> [Double] {
        ClaimJudge.seedValues(rows).map(\.value)
    }

    /// Builds the report; `adaptive` is the study's progress when its seeds are adaptive (its claims are then
    /// judged over their datasets' looks, decision 0015).
    public static func build(
        studyID: UUID, preprintID: String, title: String, state: StudyState, tasks: TaskCounts, spec: StudySpec,
        values: [RunValue], adaptive: AdaptiveProgress? = nil, bootstrap: BootstrapOptions? = ReportBuilder.bootstrap,
        now: Date = Date()
    ) -> StudyReport {
        var cells: [CellKey: [RunValue]] = [:]
        // One entry per run; every metric row of a run carries the same run columns.
        var runs: [Int64: ReportedRun] = [:]
        for row in values {
            cells[CellKey(dataset: row.dataset, configuration: row.configuration ?? "", metric: row.metric), default: []]
                .append(row)
            if runs[row.runID] == nil {
                runs[row.runID] = ReportedRun(
                    runID: row.runID, workerID: row.workerID, dataset: row.dataset, configuration: row.configuration,
                    seed: row.seed, replica: row.replica, isolation: row.isolation)
            }
        }
        let reportedRuns = runs.values.sorted { $0.runID < $1.runID }
        for key in cells.keys {
            cells[key]!.sort { ($0.seed, $0.replica, $0.runID) < ($1.seed, $1.replica, $1.runID) }
        }

        // Cells are independent and each is pure work (the bootstrap dominates: resamples × n draws), so
        // they are computed on every core; results are put back in key order, so the report is the same
        // as a sequential pass.
        let keys = cells.keys.sorted()
        let groupedCells = cells
        let computed = CellResults(count: keys.count)
        DispatchQueue.concurrentPerform(iterations: keys.count) { index in
            computed.store(cell(keys[index], rows: groupedCells[keys[index]]!, bootstrap: bootstrap), at: index)
        }
        let results = computed.all()
        let summaries = results.map(\.summary)
        let variance = results.compactMap(\.variance)

        var across: [AcrossDatasets] = []
        let byMetric = Dictionary(grouping: cells.keys) { CellKey(dataset: "", configuration: $0.configuration, metric: $0.metric) }
        for metricKey in byMetric.keys.sorted() {
            let datasetKeys = byMetric[metricKey]!.sorted()
            guard datasetKeys.count >= 2 else { continue }
            let groups = datasetKeys.map { cells[$0]!.map(\.value) }
            // Values near ±1e308 overflow the sums of squares: such a decomposition is left out, not sent as null
            // in fields that clients read as numbers.
            guard let anova = encodable(OneWayANOVA(groups: groups)) else { continue }
            across.append(
                AcrossDatasets(
                    configuration: metricKey.configuration.isEmpty ? nil : metricKey.configuration,
                    metric: metricKey.metric, anova: anova,
                    hardware: encodable(hardwareSplit(datasetKeys.map { cells[$0]! }))))
        }

        var claimReports: [ClaimReport] = []
        for (configuration, claim) in claims(of: spec) {
            let key = CellKey(dataset: claim.dataset, configuration: configuration ?? "", metric: claim.metric)
            let judgement = ClaimJudge.judge(claim, rows: cells[key] ?? [], adaptive: adaptive, state: state)
            claimReports.append(
                ClaimReport(
                    configuration: configuration, check: judgement.check,
                    explanation: explain(judgement, configuration: configuration), sequential: judgement.sequential))
        }
        // Holm's adjustment is of fixed-rule p-values; an adaptive study's claims spend their α over looks instead.
        if adaptive == nil {
            let adjusted = Holm.verdicts(claimReports.map(\.check))
            for index in claimReports.indices { claimReports[index].holmVerdict = adjusted[index] }
        }
        let score = ReproducibilityScore(verdicts: claimReports.map(\.verdict), runs: runs.count)
        return StudyReport(
            studyID: studyID, preprintID: preprintID, title: title, state: state, generatedAt: now, tasks: tasks,
            acceptedRuns: runs.count, summaries: summaries, claims: claimReports, variance: variance,
            acrossDatasets: across, score: score,
            highlights: highlights(claimReports, score: score, tasks: tasks), bootstrap: bootstrap,
            isolation: IsolationCounts(reportedRuns.map(\.isolation)), runs: reportedRuns)
    }

    /// One cell's summary, and its seed/repeat variance when it has replicas.
    static func cell(_ key: CellKey, rows: [RunValue], bootstrap: BootstrapOptions?) -> CellResult {
        let numbers = rows.map(\.value)
        let summary = Summary(values: numbers, bootstrap: bootstrap)
        let outliers = summary.outliers.map { index in
            RunReference(
                runID: rows[index].runID, workerID: rows[index].workerID, seed: rows[index].seed,
                replica: rows[index].replica, value: rows[index].value, isolation: rows[index].isolation)
        }
        let configuration = key.configuration.isEmpty ? nil : key.configuration
        let metricSummary = MetricSummary(
            dataset: key.dataset, configuration: configuration, metric: key.metric, summary: summary,
            outlierRuns: outliers, values: numbers)
        // Seed vs repeat needs replicas: seed groups with two or more runs.
        var groups: [Int64: [Double]] = [:]
        for row in rows { groups[row.seed, default: []].append(row.value) }
        guard groups.values.contains(where: { $0.count >= 2 }) else { return CellResult(summary: metricSummary, variance: nil) }
        let ordered = groups.keys.sorted().map { groups[$0]! }
        return CellResult(
            summary: metricSummary,
            variance: encodable(
                VarianceReport(
                    dataset: key.dataset, configuration: configuration, metric: key.metric,
                    seed: VarianceDecomposition.oneWay(groups: ordered),
                    hardwareClasses: Set(rows.map { $0.hardwareClass ?? "unknown" }).count)))
    }

    /// The value when JSON can carry it (every number finite), else nil: the sections whose numbers overflow
    /// for values near ±1e308 are left out of the report rather than failing it.
    static func encodable<T: Encodable>(_ value: T?) -> T? {
        guard let value, (try? JSONEncoder().encode(value)) != nil else { return nil }
        return value
    }

    /// What ``cell(_:rows:bootstrap:)`` computes for one (dataset, configuration, metric).
    struct CellResult: Sendable {
        var summary: MetricSummary
        var variance: VarianceReport?
    }

    /// Slots for the cells computed concurrently; each index is written once, by one thread.
    final class CellResults: Sendable {
        private let slots: Mutex<[CellResult?]>

        init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

        func store(_ result: CellResult, at index: Int) { slots.withLock { $0[index] = result } }

        /// Every slot, in index order (call after all stores).
        func all() -> [CellResult] { slots.withLock { $0.map { $0! } } }
    }

    /// Dataset × hardware × seed, when every dataset ran on the same two or more hardware classes; cells
    /// are trimmed to the smallest cell size so the design is balanced (the method of moments needs it).
    static func hardwareSplit(_ datasets: [[RunValue]]) -> HardwareVariance? {
        let classSets = datasets.map { Set($0.compactMap(\.hardwareClass)) }
        guard let first = classSets.first, first.count >= 2, classSets.allSatisfy({ $0 == first }) else { return nil }
        let classes = first.sorted()
        var cube: [[[Double]]] = datasets.map { rows in
            classes.map { hardware in rows.filter { $0.hardwareClass == hardware }.map(\.value) }
        }
        let smallest = cube.flatMap { $0 }.map(\.count).min() ?? 0
        guard smallest >= 2 else { return nil }
        cube = cube.map { $0.map { Array($0.prefix(smallest)) } }
        return HardwareVariance(values: cube)
    }

    /// "accuracy on wine: mean 0.962 vs claimed 0.980 (higher, ±0.010): not reproduced", and for an adaptive
    /// claim which look decided it or why its looks ended.
    static func explain(_ judgement: ClaimJudge.Judgement, configuration: String?) -> String {
        let text = explain(judgement.check, verdict: judgement.verdict, configuration: configuration)
        guard let sequential = judgement.sequential else { return text }
        return text + " " + explain(sequential)
    }

    static func explain(_ check: ClaimCheck, verdict: Verdict, configuration: String?) -> String {
        let claim = check.claim
        let place = configuration.map { "\(claim.dataset)/\($0)" } ?? claim.dataset
        let tolerance = String(format: "%.4g", check.tolerance) + (check.toleranceIsDefault ? " (default 2 %)" : "")
        guard let mean = check.mean else {
            return "\(claim.metric) on \(place): no run reported this metric; claimed \(format(claim.value))."
        }
        let gap = mean - claim.value
        let points = abs(gap) < 1 ? String(format: "%.1f points", abs(gap) * 100) : format(abs(gap))
        let side = gap < 0 ? "below" : "above"
        var text = "\(claim.metric) on \(place): mean \(format(mean)) over \(check.n) runs vs claimed \(format(claim.value)) (\(claim.direction.rawValue), tolerance ±\(tolerance)); \(points) \(side) the claim"
        switch verdict {
        case .reproduced: text += " — reproduced."
        case .notReproduced: text += ", outside the tolerance — not reproduced."
        case .inconclusive where check.verdict == .inconclusive:
            text += " — inconclusive" + (check.runsNeeded.map { "; about \($0) runs would decide it." } ?? ".")
        case .inconclusive: text += " — inconclusive."
        case .insufficientRuns: text += " — too few runs (need \(check.nMin))."
        }
        if check.possibleSeedSelection { text += " The claim is at or above the expected best of 5 seeds (possible seed selection)." }
        return text
    }

    /// "Adaptive: decided at the look after 10 seeds (looks at 5, 10 seeds of at most 20)."
    static func explain(_ sequential: SequentialClaimReport) -> String {
        "Adaptive: \(sequential.stopSentence) (\(sequential.looksSentence))."
    }

    static func highlights(_ claims: [ClaimReport], score: ReproducibilityScore, tasks: TaskCounts) -> [String] {
        var lines: [String] = []
        let decided = claims.filter { $0.verdict.isDecided }.count
        let reproduced = claims.filter { $0.verdict == .reproduced }.count
        if claims.isEmpty {
            lines.append("The study states no claims; the report gives the measured numbers only.")
        } else {
            lines.append("\(reproduced) of \(claims.count) claims reproduced (\(decided) decided).")
        }
        for claim in claims where claim.verdict != .reproduced { lines.append(claim.explanation) }
        if tasks.failed > 0 { lines.append("\(tasks.failed) task(s) failed for good and are not in the statistics.") }
        return lines
    }

    static func format(_ value: Double) -> String { String(format: "%.4g", value) }
}
