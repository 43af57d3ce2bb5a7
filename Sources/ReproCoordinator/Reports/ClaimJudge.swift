import ReproCore
import ReproStats

/// How a claim is judged from a study's runs: the one rule that the report, the score, the dashboard and the
/// adaptive maintainer share, so the verdict that stopped a dataset is the verdict every page shows.
///
/// Values are one per seed (seed means when a seed ran more than once, statistics.md §2e). A claim of an
/// adaptive study is judged over the looks its dataset took (§2c): at each look, the values of the seeds run
/// by then; runs of a step still under way belong to no look yet.
enum ClaimJudge {
    /// A claim's fixed-rule check and, in an adaptive study, its sequential judgement.
    struct Judgement: Sendable {
        var check: ClaimCheck
        var sequential: SequentialClaimReport?

        /// The verdict that counts.
        var verdict: Verdict { sequential?.verdict ?? check.verdict }
    }

    /// One value per seed, in seed order: the seed's run, or the mean of its runs when some seed ran more than
    /// once. Replicas share their seed's effect, so counting them as independent runs understates the standard
    /// error (measured in docs/statistics-calibration.md).
    static func seedValues(_ rows: [RunValue]) -> [(seed: Int64, value: Double)] {
        let bySeed = Dictionary(grouping: rows, by: \.seed)
        return bySeed.keys.sorted().map { seed in
            let runs = bySeed[seed]!
            guard runs.count > 1 else { return (seed, runs[0].value) }
            // Σ x/n rather than (Σ x)/n: every term is at most max/n, so values near ±1e308 cannot overflow
            // the sum into ±∞ (and the verdict into NaN).
            return (seed, runs.reduce(0.0) { $0 + $1.value / Double(runs.count) })
        }
    }

    /// Judges `claim` on `rows`, its (dataset, configuration, metric) runs. `adaptive` is the study's progress
    /// when its seeds are adaptive; `state` tells a cancelled study's claims from ones still growing.
    static func judge(_ claim: Claim, rows: [RunValue], adaptive: AdaptiveProgress?, state: StudyState) -> Judgement {
        let values = seedValues(rows)
        let check = ClaimCheck.evaluate(values: values.map(\.value), claim: claim)
        guard let adaptive else { return Judgement(check: check, sequential: nil) }
        let dataset = adaptive.dataset(claim.dataset)
        let (sequential, looks) = sequentialCheck(
            claim, values: values, lookSeeds: dataset?.looks ?? [], maxSeeds: adaptive.max)
        let reason = stopReason(sequential, dataset: dataset, state: state)
        return Judgement(
            check: check,
            sequential: SequentialClaimReport(
                maxSeeds: adaptive.max, looks: looks, verdict: sequential.verdict, stopReason: reason))
    }

    /// The group-sequential check of a claim whose dataset looked when `lookSeeds` seeds had run: each look
    /// counts the values of seeds below it (seeds of an adaptive study are 0, 1, … in the order they run).
    static func sequentialCheck(
        _ claim: Claim, values: [(seed: Int64, value: Double)], lookSeeds: [Int], maxSeeds: Int
    ) -> (check: SequentialCheck, looks: [AdaptiveLook]) {
        let sizes = lookSizes(values, lookSeeds: lookSeeds)
        let check = SequentialCheck.evaluate(
            values: values.map(\.value), lookSizes: sizes, maximumRuns: maxSeeds, claim: claim)
        // A look that added no value is merged into the earlier one by SequentialCheck; it keeps the seeds of
        // the first look of that size.
        let looks = check.looks.map { look in
            AdaptiveLook(seeds: zip(lookSeeds, sizes).first { $0.1 == look.n }?.0 ?? look.n, look: look)
        }
        return (check, looks)
    }

    /// Values counted at each look.
    static func lookSizes(_ values: [(seed: Int64, value: Double)], lookSeeds: [Int]) -> [Int] {
        lookSeeds.map { seeds in values.count { $0.seed < Int64(seeds) } }
    }

    /// Why a claim's looks ended: its own decision first, else its dataset's stop, else the study's state.
    static func stopReason(_ check: SequentialCheck, dataset: AdaptiveDataset?, state: StudyState)
        -> AdaptiveStopReason
    {
        if check.stopReason == .decided { return .decided }
        if let stopped = dataset?.stopReason { return stopped }
        return state == .cancelled ? .cancelled : .continuing
    }
}
