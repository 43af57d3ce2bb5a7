import Foundation
import ReproCore
import ReproStats
import Testing

@testable import ReproCoordinator

/// The look decisions of adaptive studies, as pure values (no database).
@Suite("Adaptive look decisions")
struct AdaptiveLookPlanTests {
    static let schedule = AdaptiveSchedule(min: 5, max: 12, step: 5)
    static let claim = Claim(metric: "accuracy", dataset: "digits", value: 0.95, direction: .higher, tolerance: 0.01)

    static func rows(_ values: [Double], dataset: String = "digits", metric: String = "accuracy") -> [RunValue] {
        values.enumerated().map { seed, value in
            RunValue(
                runID: Int64(seed + 1), workerID: UUID(), dataset: dataset, configuration: nil, seed: Int64(seed),
                replica: 0, hardwareClass: nil, metric: metric, value: value)
        }
    }

    static func look(
        seeds: Int, looks: [Int] = [], values: [Double],
        claims: [(configuration: String?, claim: Claim)] = [(nil, claim)]
    ) -> AdaptiveLookPlan.Look {
        let dataset = AdaptiveDataset(dataset: "digits", seeds: seeds, looks: looks, stopReason: nil)
        return AdaptiveLookPlan(schedule: schedule, due: [dataset], claims: claims, values: rows(values)).looks[0]
    }

    static let noisy = [0.945, 0.965, 0.950, 0.960, 0.955, 0.948, 0.962, 0.952, 0.958, 0.955]
    static let far = [0.99, 0.991, 0.989, 0.99, 0.992]

    @Test("a dataset is due when it grows, its tasks have all ended and no look was taken at its seeds")
    func due() {
        let progress = AdaptiveProgress(
            min: 5, max: 12, step: 5, maxTaskCount: 36,
            datasets: [
                AdaptiveDataset(dataset: "a", seeds: 5, looks: [], stopReason: nil),
                AdaptiveDataset(dataset: "b", seeds: 10, looks: [5], stopReason: nil),
                AdaptiveDataset(dataset: "c", seeds: 10, looks: [5, 10], stopReason: nil),
                AdaptiveDataset(dataset: "d", seeds: 5, looks: [5], stopReason: .decided),
            ])
        #expect(AdaptiveLookPlan.due(progress, openTasks: [:]).map(\.dataset) == ["a", "b"])
        #expect(AdaptiveLookPlan.due(progress, openTasks: ["a": 1]).map(\.dataset) == ["b"])
    }

    @Test("grows by a step while a claim is undecided; the last step ends at max")
    func grows() {
        #expect(Self.look(seeds: 5, values: Array(Self.noisy.prefix(5))).nextSeeds == 10)
        let last = Self.look(seeds: 10, looks: [5], values: [0.90, 1.0, 0.90, 1.0, 0.95, 0.90, 1.0, 0.90, 1.0, 0.95])
        #expect(last.nextSeeds == 12)
        #expect(last.stopReason == nil)
    }

    @Test("stops when every claim is decided, at max, without claims, or when the step added no value")
    func stops() {
        #expect(Self.look(seeds: 10, looks: [5], values: Self.noisy).stopReason == .decided)
        #expect(Self.look(seeds: 5, values: Self.far).stopReason == .decided)
        let spread = [0.90, 1.0, 0.90, 1.0, 0.95, 0.90, 1.0, 0.90, 1.0, 0.95, 0.9, 1.0]
        #expect(Self.look(seeds: 12, looks: [5, 10], values: spread).stopReason == .reachedMaximum)
        #expect(Self.look(seeds: 5, values: Self.far, claims: []).stopReason == .noClaims)
        // Seeds 5…9 all failed: nothing new since the look at 5.
        #expect(Self.look(seeds: 10, looks: [5], values: Array(Self.noisy.prefix(5))).stopReason == .noNewRuns)
        // A claim on a metric no run reports never gains a value.
        let missing = Claim(metric: "f1", dataset: "digits", value: 0.9, direction: .higher, tolerance: 0.01)
        #expect(Self.look(seeds: 5, values: Self.far, claims: [(nil, missing)]).stopReason == .noNewRuns)
    }

    @Test("a claim's looks count the seeds below each look; later runs wait for the next look")
    func claimJudgement() {
        let progress = AdaptiveProgress(
            min: 5, max: 12, step: 5, maxTaskCount: 12,
            datasets: [AdaptiveDataset(dataset: "digits", seeds: 10, looks: [5], stopReason: nil)])
        let judgement = ClaimJudge.judge(Self.claim, rows: Self.rows(Self.noisy), adaptive: progress, state: .running)
        let sequential = judgement.sequential
        #expect(sequential?.looks.map(\.seeds) == [5])
        #expect(sequential?.looks.map(\.look.n) == [5])
        #expect(sequential?.stopReason == .continuing)
        #expect(judgement.verdict == .inconclusive)
        #expect(judgement.check.n == 10)
        let cancelled = ClaimJudge.judge(Self.claim, rows: Self.rows(Self.noisy), adaptive: progress, state: .cancelled)
        #expect(cancelled.sequential?.stopReason == .cancelled)
    }

    @Test("progress: min seeds before the first look, then what each look grew to or stopped at")
    func progressFromLooks() {
        let progress = AdaptivePlanStore.progress(
            Self.schedule, datasets: ["digits", "wine", "iris"], maxTaskCount: 36,
            looks: [
                .init(dataset: "wine", seeds: 10, nextSeeds: nil, stopReason: .decided),
                .init(dataset: "wine", seeds: 5, nextSeeds: 10, stopReason: nil),
                .init(dataset: "digits", seeds: 5, nextSeeds: 10, stopReason: nil),
            ])
        #expect(
            progress.datasets == [
                AdaptiveDataset(dataset: "digits", seeds: 10, looks: [5], stopReason: nil),
                AdaptiveDataset(dataset: "wine", seeds: 10, looks: [5, 10], stopReason: .decided),
                AdaptiveDataset(dataset: "iris", seeds: 5, looks: [], stopReason: nil),
            ])
        #expect(progress.seedsLine == "seeds per dataset: digits 10, wine 10, iris 5 of at most 12")
    }
}
