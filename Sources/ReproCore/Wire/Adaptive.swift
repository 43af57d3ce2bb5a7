import Foundation
import ReproStats

/// Why a dataset of an adaptive study stopped growing, or where one of its claims stands (decision 0015).
public enum AdaptiveStopReason: String, Codable, Sendable, Hashable, CaseIterable {
    /// Every claim (for a claim: this claim) crossed a boundary.
    case decided
    /// `max` seeds ran without a decision.
    case reachedMaximum = "reached_maximum"
    /// The last step added no value to an undecided claim (its tasks all failed, or no run reports the
    /// claim's metric): more seeds of the same job would only cost volunteers' time.
    case noNewRuns = "no_new_runs"
    /// The dataset has no claim to decide; it ran `min` seeds for its summaries.
    case noClaims = "no_claims"
    /// The study was cancelled while the dataset was still growing.
    case cancelled
    /// Still growing: the next look comes when the current step's tasks have ended.
    case continuing
}

/// The seeds of an adaptive study (`adaptive` in `GET /v1/studies/{id}`): the plan, and per dataset how many
/// seeds have tasks, the looks taken and why it stopped. Progress reads "n of at most max".
public struct AdaptiveProgress: Codable, Sendable, Hashable {
    /// The plan of `matrix.seeds.adaptive`.
    public var min: Int
    public var max: Int
    public var step: Int
    /// Tasks the study would have at `max` seeds on every dataset: `task_count` is at most this.
    public var maxTaskCount: Int
    /// Per dataset, in the spec's order.
    public var datasets: [AdaptiveDataset]

    enum CodingKeys: String, CodingKey {
        case min, max, step
        case maxTaskCount = "max_task_count"
        case datasets
    }

    /// Creates the progress.
    public init(min: Int, max: Int, step: Int, maxTaskCount: Int, datasets: [AdaptiveDataset]) {
        self.min = min
        self.max = max
        self.step = step
        self.maxTaskCount = maxTaskCount
        self.datasets = datasets
    }

    /// The plan as ReproStats reads it.
    public var schedule: AdaptiveSchedule { AdaptiveSchedule(min: min, max: max, step: step) }

    /// The entry of `dataset`, if the study has it.
    public func dataset(_ name: String) -> AdaptiveDataset? { datasets.first { $0.dataset == name } }

    /// "seeds per dataset: digits 6, wine 9 of at most 9" for progress lines.
    public var seedsLine: String {
        "seeds per dataset: " + datasets.map { "\($0.dataset) \($0.seeds)" }.joined(separator: ", ")
            + " of at most \(max)"
    }
}

/// One dataset of an adaptive study.
public struct AdaptiveDataset: Codable, Sendable, Hashable {
    /// The dataset's name.
    public var dataset: String
    /// Seeds that have tasks now (per configuration).
    public var seeds: Int
    /// Seeds run at each look taken so far, in order.
    public var looks: [Int]
    /// Why it stopped growing; nil while it grows.
    public var stopReason: AdaptiveStopReason?

    enum CodingKeys: String, CodingKey {
        case dataset, seeds, looks
        case stopReason = "stop_reason"
    }

    /// Creates an entry.
    public init(dataset: String, seeds: Int, looks: [Int], stopReason: AdaptiveStopReason?) {
        self.dataset = dataset
        self.seeds = seeds
        self.looks = looks
        self.stopReason = stopReason
    }
}

/// A claim of an adaptive study judged over its dataset's looks (`sequential` in a report's claim): each look's
/// bounds, spent α and verdict (docs/statistics.md §2c), the verdict that counts and why the looks ended.
public struct SequentialClaimReport: Codable, Sendable, Hashable {
    /// The most seeds the claim's dataset may run (`max`): the information fraction's denominator.
    public var maxSeeds: Int
    /// The looks, up to the first that decided.
    public var looks: [AdaptiveLook]
    /// The verdict of the last look (`insufficient_runs` before the first look).
    public var verdict: Verdict
    /// Why the looks ended (`continuing` while more seeds run).
    public var stopReason: AdaptiveStopReason

    enum CodingKeys: String, CodingKey {
        case maxSeeds = "max_seeds"
        case looks, verdict
        case stopReason = "stop_reason"
    }

    /// Creates the entry.
    public init(maxSeeds: Int, looks: [AdaptiveLook], verdict: Verdict, stopReason: AdaptiveStopReason) {
        self.maxSeeds = maxSeeds
        self.looks = looks
        self.verdict = verdict
        self.stopReason = stopReason
    }
}

/// One look at a claim: the seeds run by then and ReproStats' look (`n` counts the seeds with a value, fewer
/// when tasks failed), encoded as one flat object.
public struct AdaptiveLook: Codable, Sendable, Hashable {
    /// Seeds per configuration run by this look.
    public var seeds: Int
    /// n, the information fraction, both tests' bounds, levels, spent α and p-values, and the verdict.
    public var look: SequentialCheck.Look

    enum CodingKeys: String, CodingKey { case seeds }

    /// Creates a look.
    public init(seeds: Int, look: SequentialCheck.Look) {
        self.seeds = seeds
        self.look = look
    }

    /// Encodes `seeds` and the look's own keys in one object. JSONEncoder and JSONDecoder let a value and its
    /// member share the keyed container, so the look's fields are not listed twice.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seeds, forKey: .seeds)
        try look.encode(to: encoder)
    }

    /// Decodes the flat object ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        seeds = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .seeds)
        look = try SequentialCheck.Look(from: decoder)
    }
}
