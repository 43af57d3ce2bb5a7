import Foundation
import ReproStats

/// The reproducibility report of one study (`GET /v1/studies/{id}/report`). Field names are those of
/// statistics.md, in snake_case.
public struct StudyReport: Codable, Sendable {
    public var studyID: UUID
    public var preprintID: String
    public var title: String
    public var state: StudyState
    public var generatedAt: Date
    public var tasks: TaskCounts
    /// Accepted runs the statistics use (one per task).
    public var acceptedRuns: Int
    /// Per (dataset, configuration, metric).
    public var summaries: [MetricSummary]
    /// Per claim of the spec, in spec order.
    public var claims: [ClaimReport]
    /// Where the variance comes from, per (dataset, configuration, metric), when replicas ran.
    public var variance: [VarianceReport]
    /// Differences between datasets, per (configuration, metric), when there are several datasets.
    public var acrossDatasets: [AcrossDatasets]
    /// This study's claims counted as the preprint score counts them.
    public var score: ReproducibilityScore
    /// Plain-language lines for people.
    public var highlights: [String]
    /// How bootstrap intervals were computed (resamples, seed, level, cap on draws per cell).
    public var bootstrap: BootstrapOptions?
    /// Accepted runs by isolation level. Optional only so that reports of older coordinators decode.
    public var isolation: IsolationCounts?
    /// Every accepted run the statistics use, by run id, with the isolation it ran under. Optional only
    /// so that reports of older coordinators decode.
    public var runs: [ReportedRun]?

    enum CodingKeys: String, CodingKey {
        case studyID = "study_id"
        case preprintID = "preprint_id"
        case title, state
        case generatedAt = "generated_at"
        case tasks
        case acceptedRuns = "accepted_runs"
        case summaries, claims, variance
        case acrossDatasets = "across_datasets"
        case score, highlights, bootstrap, isolation, runs
    }

    /// Creates a report.
    public init(
        studyID: UUID, preprintID: String, title: String, state: StudyState, generatedAt: Date, tasks: TaskCounts,
        acceptedRuns: Int, summaries: [MetricSummary], claims: [ClaimReport], variance: [VarianceReport],
        acrossDatasets: [AcrossDatasets], score: ReproducibilityScore, highlights: [String],
        bootstrap: BootstrapOptions? = nil, isolation: IsolationCounts? = nil, runs: [ReportedRun]? = nil
    ) {
        self.studyID = studyID
        self.preprintID = preprintID
        self.title = title
        self.state = state
        self.generatedAt = generatedAt
        self.tasks = tasks
        self.acceptedRuns = acceptedRuns
        self.summaries = summaries
        self.claims = claims
        self.variance = variance
        self.acrossDatasets = acrossDatasets
        self.score = score
        self.highlights = highlights
        self.bootstrap = bootstrap
        self.isolation = isolation
        self.runs = runs
    }
}

/// One accepted run of a report: which task it was, the worker, and how the job was isolated.
public struct ReportedRun: Codable, Sendable, Hashable {
    public var runID: Int64
    public var workerID: UUID
    public var dataset: String
    public var configuration: String?
    public var seed: Int64
    public var replica: Int
    /// From the run's fingerprint; `unknown` when the fingerprint does not say.
    public var isolation: RunIsolation
    /// Parameters the job logged with MLflow; nil when it logged none.
    public var params: [String: String]?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case workerID = "worker_id"
        case dataset, configuration, seed, replica, isolation, params
    }

    /// Creates an entry.
    public init(
        runID: Int64, workerID: UUID, dataset: String, configuration: String?, seed: Int64, replica: Int,
        isolation: RunIsolation
    ) {
        self.runID = runID
        self.workerID = workerID
        self.dataset = dataset
        self.configuration = configuration
        self.seed = seed
        self.replica = replica
        self.isolation = isolation
    }
}

/// How many runs ran under each isolation level (JSON keys `strict`, `none`, `unknown`).
public struct IsolationCounts: Codable, Sendable, Hashable {
    public var strict: Int
    public var unsandboxed: Int
    public var unknown: Int

    enum CodingKeys: String, CodingKey {
        case strict
        case unsandboxed = "none"
        case unknown
    }

    /// Counts the levels of `levels`.
    public init<Levels: Sequence>(_ levels: Levels) where Levels.Element == RunIsolation {
        self.init(strict: 0, unsandboxed: 0, unknown: 0)
        for level in levels {
            switch level {
            case .strict: strict += 1
            case .unsandboxed: unsandboxed += 1
            case .unknown: unknown += 1
            }
        }
    }

    /// Creates counts.
    public init(strict: Int, unsandboxed: Int, unknown: Int) {
        self.strict = strict
        self.unsandboxed = unsandboxed
        self.unknown = unknown
    }

    /// The count of one level.
    public subscript(level: RunIsolation) -> Int {
        switch level {
        case .strict: strict
        case .unsandboxed: unsandboxed
        case .unknown: unknown
        }
    }
}

/// One run named by the report (an outlier), so a moderator can find it.
public struct RunReference: Codable, Sendable, Hashable {
    public var runID: Int64
    public var workerID: UUID
    public var seed: Int64
    public var replica: Int
    public var value: Double
    /// From the run's fingerprint; nil in reports of older coordinators.
    public var isolation: RunIsolation?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case workerID = "worker_id"
        case seed, replica, value, isolation
    }

    /// Creates a reference.
    public init(
        runID: Int64, workerID: UUID, seed: Int64, replica: Int, value: Double, isolation: RunIsolation? = nil
    ) {
        self.runID = runID
        self.workerID = workerID
        self.seed = seed
        self.replica = replica
        self.value = value
        self.isolation = isolation
    }
}

/// The summary of one (dataset, configuration, metric) cell.
public struct MetricSummary: Codable, Sendable {
    public var dataset: String
    public var configuration: String?
    public var metric: String
    public var summary: Summary
    /// The runs flagged as outliers by the modified z-score.
    public var outlierRuns: [RunReference]
    /// Every value in seed order, for strip plots.
    public var values: [Double]

    enum CodingKeys: String, CodingKey {
        case dataset, configuration, metric, summary
        case outlierRuns = "outlier_runs"
        case values
    }

    /// Creates a summary entry.
    public init(
        dataset: String, configuration: String?, metric: String, summary: Summary, outlierRuns: [RunReference],
        values: [Double]
    ) {
        self.dataset = dataset
        self.configuration = configuration
        self.metric = metric
        self.summary = summary
        self.outlierRuns = outlierRuns
        self.values = values
    }
}

/// One claim and its check.
public struct ClaimReport: Codable, Sendable {
    public var configuration: String?
    /// The fixed rule of statistics.md §2 over every value so far.
    public var check: ClaimCheck
    /// A sentence for people.
    public var explanation: String
    /// The verdict after Holm's adjustment across the study's claims (family-wise α = 0.05), beside the
    /// per-claim `check.verdict`. The score uses the per-claim verdict (docs/statistics.md §2b). Optional only
    /// so that reports of older coordinators decode; absent for an adaptive study, whose claims spend their α
    /// over looks (Holm over the final fixed-rule p-values would ignore the looks).
    public var holmVerdict: Verdict?
    /// The claim of an adaptive study judged over its dataset's looks (§2c); nil with a fixed seed list.
    public var sequential: SequentialClaimReport?
    /// The verdict that counts (score, highlights): the sequential verdict of an adaptive claim, else
    /// `check.verdict`.
    public var verdict: Verdict

    enum CodingKeys: String, CodingKey {
        case configuration, check, explanation
        case holmVerdict = "holm_verdict"
        case sequential, verdict
    }

    /// Creates a claim entry.
    public init(
        configuration: String?, check: ClaimCheck, explanation: String, holmVerdict: Verdict? = nil,
        sequential: SequentialClaimReport? = nil
    ) {
        self.configuration = configuration
        self.check = check
        self.explanation = explanation
        self.holmVerdict = holmVerdict
        self.sequential = sequential
        self.verdict = sequential?.verdict ?? check.verdict
    }

    /// Decodes an entry; `verdict` is absent from reports of older coordinators, whose verdict was the check's.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        configuration = try container.decodeIfPresent(String.self, forKey: .configuration)
        check = try container.decode(ClaimCheck.self, forKey: .check)
        explanation = try container.decode(String.self, forKey: .explanation)
        holmVerdict = try container.decodeIfPresent(Verdict.self, forKey: .holmVerdict)
        sequential = try container.decodeIfPresent(SequentialClaimReport.self, forKey: .sequential)
        verdict = try container.decodeIfPresent(Verdict.self, forKey: .verdict) ?? sequential?.verdict ?? check.verdict
    }
}

/// Variance decomposition of one cell.
public struct VarianceReport: Codable, Sendable {
    public var dataset: String
    public var configuration: String?
    public var metric: String
    /// Seed vs repeat (one-way random effects over seed groups of replicas).
    public var seed: SeedVariance
    /// Number of distinct hardware classes among the runs.
    public var hardwareClasses: Int

    enum CodingKeys: String, CodingKey {
        case dataset, configuration, metric, seed
        case hardwareClasses = "hardware_classes"
    }

    /// Creates an entry.
    public init(dataset: String, configuration: String?, metric: String, seed: SeedVariance, hardwareClasses: Int) {
        self.dataset = dataset
        self.configuration = configuration
        self.metric = metric
        self.seed = seed
        self.hardwareClasses = hardwareClasses
    }
}

/// Differences between datasets for one (configuration, metric).
public struct AcrossDatasets: Codable, Sendable {
    public var configuration: String?
    public var metric: String
    public var anova: OneWayANOVA
    /// Dataset × hardware × seed split, when the same hardware classes ran every dataset.
    public var hardware: HardwareVariance?

    /// Creates an entry.
    public init(configuration: String?, metric: String, anova: OneWayANOVA, hardware: HardwareVariance?) {
        self.configuration = configuration
        self.metric = metric
        self.anova = anova
        self.hardware = hardware
    }
}

/// A preprint's score (`GET /v1/preprints/{id}/score`).
public struct PreprintScore: Codable, Sendable {
    public var preprintID: String
    public var title: String
    public var studies: Int
    public var score: ReproducibilityScore
    /// Every claim that counts, with its study and verdict.
    public var claims: [ScoredClaim]
    public var computedAt: Date

    enum CodingKeys: String, CodingKey {
        case preprintID = "preprint_id"
        case title, studies, score, claims
        case computedAt = "computed_at"
    }

    /// Creates a score.
    public init(preprintID: String, title: String, studies: Int, score: ReproducibilityScore, claims: [ScoredClaim], computedAt: Date) {
        self.preprintID = preprintID
        self.title = title
        self.studies = studies
        self.score = score
        self.claims = claims
        self.computedAt = computedAt
    }
}

/// One claim as the score sees it.
public struct ScoredClaim: Codable, Sendable {
    public var studyID: UUID
    public var metric: String
    public var dataset: String
    public var configuration: String?
    public var claimed: Double
    public var mean: Double?
    public var n: Int
    public var verdict: Verdict

    enum CodingKeys: String, CodingKey {
        case studyID = "study_id"
        case metric, dataset, configuration, claimed, mean, n, verdict
    }

    /// Creates an entry.
    public init(studyID: UUID, metric: String, dataset: String, configuration: String?, claimed: Double, mean: Double?, n: Int, verdict: Verdict) {
        self.studyID = studyID
        self.metric = metric
        self.dataset = dataset
        self.configuration = configuration
        self.claimed = claimed
        self.mean = mean
        self.n = n
        self.verdict = verdict
    }
}
