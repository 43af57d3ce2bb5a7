import Testing

@testable import ReproStats

/// The logit-scale interval of docs/statistics.md §2a against scipy (References/issue15_references.py,
/// scipy 1.17.1: `scipy.special.logit/expit` and `scipy.stats.t.ppf` on the delta-method formula).
@Suite("Logit-scale interval for bounded metrics")
struct LogitIntervalTests {
    struct Case: Sendable {
        let values: [Double]
        let range: (Double, Double)
        let level: Double
        let lower: Double
        let upper: Double
        let tUpper: Double
    }

    static let cases = [
        Case(values: [1.0, 0.99, 1.0, 0.97, 1.0], range: (0, 1), level: 0.90,
            lower: 0.9628134885245742, upper: 0.9983189421127403, tUpper: 1.0044306960582512),
        Case(values: [1.0, 0.99, 1.0, 0.97, 1.0], range: (0, 1), level: 0.95,
            lower: 0.9416017756796686, upper: 0.9989524637061448, tUpper: 1.008189317847087),
        Case(values: [0.9722, 0.9944, 1.0, 0.9833, 1.0, 0.9889, 0.9778, 1.0], range: (0, 1), level: 0.95,
            lower: 0.9751757475840029, upper: 0.9956591766608558, tUpper: 0.9986768015533412),
        Case(values: [0.912, 0.905, 0.917, 0.909, 0.921, 0.903, 0.915, 0.911], range: (0, 1), level: 0.90,
            lower: 0.9075070560680288, upper: 0.9155766615428884, tUpper: 0.9156589320957357),
        Case(values: [0.5, 2.0, 0.1, 1.2, 0.0, 3.5], range: (0, 100), level: 0.95,
            lower: 0.3785675686968646, upper: 3.838711858222054, tUpper: 2.6299672713962083),
    ]

    @Test("matches scipy", arguments: cases.indices)
    func matchesScipy(index: Int) throws {
        let item = Self.cases[index]
        let summary = Summary(values: item.values, bootstrap: nil)
        let mean = try #require(summary.mean)
        let sd = try #require(summary.sd)
        let interval = try #require(
            Interval.logitMean(
                mean: mean, sd: sd, count: item.values.count, level: item.level, lowerBound: item.range.0,
                upperBound: item.range.1))
        expectClose(interval.lower, item.lower, .closedForm, "lower")
        expectClose(interval.upper, item.upper, .closedForm, "upper")
        // The t interval the report gave before: it leaves the range in the first two cases.
        let t = try #require(Interval.studentMean(mean: mean, sd: sd, count: item.values.count, level: item.level))
        expectClose(t.upper, item.tUpper, .closedForm, "t upper")
    }

    @Test("never leaves the range, for any data in it")
    func staysInRange() {
        var random = WyRand(seed: 15)
        for trial in 0..<2_000 {
            let count = 2 + trial % 30
            // Accuracies piled up near 1 (and a few near 0), the case a symmetric interval gets wrong.
            let nearOne = trial % 5 != 0
            let values = (0..<count).map { _ -> Double in
                let u = Double(random.next() >> 11) * 0x1p-53
                let v = u * u * u * 0.2
                return nearOne ? 1 - v : v
            }
            let summary = Summary(values: values, bootstrap: nil)
            guard let mean = summary.mean, let sd = summary.sd else { continue }
            for level in [0.5, 0.9, 0.95, 0.999] {
                let interval = Interval.logitMean(mean: mean, sd: sd, count: count, level: level, lowerBound: 0, upperBound: 1)
                #expect(interval != nil)
                if let interval {
                    #expect(interval.lower >= 0 && interval.upper <= 1 && interval.lower <= mean && mean <= interval.upper)
                }
            }
        }
    }

    @Test("a bounded claim's verdict uses it; intervals stay in range; all runs at 1 give a point")
    func claimUsesLogitScale() throws {
        let claim = Claim(
            metric: "accuracy", dataset: "d", value: 0.99, direction: .higher, tolerance: 0.01,
            range: Interval(lower: 0, upper: 1))
        let check = ClaimCheck.evaluate(values: [1.0, 0.99, 1.0, 0.97, 1.0], claim: claim)
        #expect(check.intervalScale == .logit)
        expectClose(check.ci95Mean?.upper, 0.9989524637061448, .closedForm, "ci95 upper")
        expectClose(check.ci90Mean?.lower, 0.9628134885245742, .closedForm, "ci90 lower")
        // One-sided 95 % lower bound 0.9628 < c − δ = 0.98: not reproduced yet; upper 0.9990 ≥ 0.98: not refuted.
        #expect(check.verdict == .inconclusive)
        let unbounded = ClaimCheck.evaluate(
            values: [1.0, 0.99, 1.0, 0.97, 1.0],
            claim: Claim(metric: "accuracy", dataset: "d", value: 0.99, direction: .higher, tolerance: 0.01))
        #expect(unbounded.intervalScale == .t)
        #expect((unbounded.ci95Mean?.upper ?? 0) > 1)

        let perfect = ClaimCheck.evaluate(values: [1, 1, 1, 1, 1], claim: claim)
        #expect(perfect.ci95Mean == Interval(lower: 1, upper: 1))
        #expect(perfect.verdict == .reproduced)
    }

    @Test("runs_needed on the logit scale is the first n whose verdict is decisive")
    func runsNeededIsConsistent() throws {
        let claim = Claim(
            metric: "accuracy", dataset: "d", value: 0.99, direction: .higher, tolerance: 0.01,
            range: Interval(lower: 0, upper: 1))
        let check = ClaimCheck.evaluate(values: [1.0, 0.99, 1.0, 0.97, 1.0], claim: claim)
        let needed = try #require(check.runsNeeded)
        let rule = DecisionRule(
            direction: .higher, claimed: 0.99, tolerance: 0.01, mean: try #require(check.mean), sd: try #require(check.sd),
            range: Interval(lower: 0, upper: 1))
        #expect(rule.verdict(runs: needed) != .inconclusive)
        #expect(rule.verdict(runs: needed - 1) == .inconclusive)
    }
}
