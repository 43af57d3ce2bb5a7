import ReproCore
import ReproStats

/// What one pass of the ``AdaptiveMaintainer`` does to one adaptive study, decided in memory from the study's
/// progress, its open tasks per dataset and its runs, so the transaction around it only reads and then writes
/// in a fixed number of statements (the pattern of ``ResultPlan``).
///
/// A dataset is due for a look when it still grows, every task of its seeds so far has ended, and no look was
/// taken at that many seeds. The look judges every claim on the dataset with ``ClaimJudge`` over the looks so
/// far plus this one. The dataset stops when
/// - it has no claim (`no_claims`): it ran `min` seeds for its summaries;
/// - every claim crossed a boundary (`decided`);
/// - it has `max` seeds (`reached_maximum`);
/// - the seeds since the last look added no value to any undecided claim (`no_new_runs`): their tasks all
///   failed, or no run reports the claim's metric, and more seeds of the same job would only cost compute;
///
/// and otherwise grows by `step` seeds (the last step may be shorter, to end at `max`).
struct AdaptiveLookPlan: Sendable {
    /// A look to record, with the step it adds or the reason it stops the dataset.
    struct Look: Sendable, Hashable {
        var dataset: String
        var seeds: Int
        var nextSeeds: Int?
        var stopReason: AdaptiveStopReason?
    }

    /// The looks, in the study's dataset order.
    let looks: [Look]

    /// Datasets whose look is due, in the study's dataset order.
    static func due(_ progress: AdaptiveProgress, openTasks: [String: Int]) -> [AdaptiveDataset] {
        progress.datasets.filter { dataset in
            dataset.stopReason == nil && (openTasks[dataset.dataset] ?? 0) == 0
                && (dataset.looks.last ?? 0) < dataset.seeds
        }
    }

    /// Decides the looks of the `due` datasets from the study's claims and the values of its accepted runs.
    init(
        schedule: AdaptiveSchedule, due: [AdaptiveDataset], claims: [(configuration: String?, claim: Claim)],
        values: [RunValue]
    ) {
        looks = due.map { dataset in
            let onDataset = claims.filter { $0.claim.dataset == dataset.dataset }
            let rows = values.filter { $0.dataset == dataset.dataset }
            return Self.look(at: dataset, schedule: schedule, claims: onDataset, rows: rows)
        }
    }

    /// The look at one dataset.
    static func look(
        at dataset: AdaptiveDataset, schedule: AdaptiveSchedule, claims: [(configuration: String?, claim: Claim)],
        rows: [RunValue]
    ) -> Look {
        func stop(_ reason: AdaptiveStopReason) -> Look {
            Look(dataset: dataset.dataset, seeds: dataset.seeds, nextSeeds: nil, stopReason: reason)
        }
        guard !claims.isEmpty else { return stop(.noClaims) }
        let lookSeeds = dataset.looks + [dataset.seeds]
        var undecidedGained = false
        var undecided = 0
        for (configuration, claim) in claims {
            let values = ClaimJudge.seedValues(
                rows.filter { $0.metric == claim.metric && $0.configuration == configuration })
            let (check, _) = ClaimJudge.sequentialCheck(
                claim, values: values, lookSeeds: lookSeeds, maxSeeds: schedule.max)
            guard !check.verdict.isDecided else { continue }
            undecided += 1
            let sizes = ClaimJudge.lookSizes(values, lookSeeds: lookSeeds)
            if (sizes.last ?? 0) > (sizes.dropLast().last ?? 0) { undecidedGained = true }
        }
        if undecided == 0 { return stop(.decided) }
        if dataset.seeds >= schedule.max { return stop(.reachedMaximum) }
        if !undecidedGained { return stop(.noNewRuns) }
        let next = min(dataset.seeds + schedule.step, schedule.max)
        return Look(dataset: dataset.dataset, seeds: dataset.seeds, nextSeeds: next, stopReason: nil)
    }

    /// Datasets this pass stops.
    var stopped: Int { looks.count { $0.nextSeeds == nil } }

    /// The seeds each growing dataset gets, as positions in the study's seed list.
    var steps: [(dataset: String, seeds: Range<Int>)] {
        looks.compactMap { look in look.nextSeeds.map { (look.dataset, look.seeds..<$0) } }
    }
}
