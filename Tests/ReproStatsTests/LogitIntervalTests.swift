import Testing

@testable import ReproStats

/// The bounded-metric interval of docs/statistics.md §2a against an independent Python implementation
/// (References/issue15_references.py, scipy 1.17.1 / numpy 2.4.6 / sympy 1.14: `scipy.special.logit/expit`,
/// `numpy.cbrt`, `scipy.stats.t.ppf` with real df, and ν from the sympy expansion in
/// References/issue15_beta_expansion.py rather than from the closed form the Swift code uses).
@Suite("Logit-scale interval for bounded metrics")
struct LogitIntervalTests {
    struct Case: Sendable {
        let name: String
        let values: [Double]
        let range: (Double, Double)
        let level: Double
        let lower: Double
        let upper: Double
        /// ν of the skewness correction.
        let degreesOfFreedom: Double
        /// The t interval's upper end, which leaves the range in the first cases.
        let tUpper: Double
    }

    static let nearOne = [1.0, 0.99, 1.0, 0.97, 1.0]
    static let demoLike = [0.9722, 0.9944, 1.0, 0.9833, 1.0, 0.9889, 0.9778, 1.0]
    static let workedExample = [0.912, 0.905, 0.917, 0.909, 0.921, 0.903, 0.915, 0.911]
    static let percentNearZero = [0.5, 2.0, 0.1, 1.2, 0.0, 3.5]
    static let symmetricHalf = [0.4, 0.55, 0.5, 0.45, 0.6]
    static let divergedSeed = [0.91, 0.93, 0.5, 0.92, 0.9, 0.94]
    static let oneOffTheBound = [1.0, 1.0, 1.0, 1.0, 0.9]
    static let threeNearZero = [0.02, 0.05, 0.01]

    static let cases = [
        Case(name: "near_one", values: nearOne, range: (0, 1), level: 0.90,
            lower: 0.7024555041431826, upper: 0.9980281617022906, degreesOfFreedom: 2.4534242737412915,
            tUpper: 1.0044306960582512),
        // The lower end is Hoeffding's: the corrected one (0.0021) runs past it.
        Case(name: "near_one", values: nearOne, range: (0, 1), level: 0.95,
            lower: 0.3846385380916949, upper: 0.9987917123491443, degreesOfFreedom: 2.4534242737412915,
            tUpper: 1.008189317847087),
        Case(name: "demo_like", values: demoLike, range: (0, 1), level: 0.90,
            lower: 0.9726963226587012, upper: 0.9946634956187655, degreesOfFreedom: 4.041171058351178,
            tUpper: 0.9968675237399217),
        Case(name: "demo_like", values: demoLike, range: (0, 1), level: 0.95,
            lower: 0.9615036572082402, upper: 0.9955841114917493, degreesOfFreedom: 4.041171058351178,
            tUpper: 0.9986768015533412),
        Case(name: "worked_example", values: workedExample, range: (0, 1), level: 0.90,
            lower: 0.9074597921843552, upper: 0.9155374068783915, degreesOfFreedom: 6.980505947211893,
            tUpper: 0.9156589320957357),
        Case(name: "worked_example", values: workedExample, range: (0, 1), level: 0.95,
            lower: 0.9063934255647831, upper: 0.9164798217945663, degreesOfFreedom: 6.980505947211893,
            tUpper: 0.9166597521275855),
        Case(name: "percent_near_zero", values: percentNearZero, range: (0, 100), level: 0.90,
            lower: 0.5146186647201687, upper: 4.758338359598124, degreesOfFreedom: 3.159432605236021,
            tUpper: 2.3245361167306395),
        Case(name: "percent_near_zero", values: percentNearZero, range: (0, 100), level: 0.95,
            lower: 0.3929918139110488, upper: 8.86426948415577, degreesOfFreedom: 3.159432605236021,
            tUpper: 2.6299672713962083),
        // Mean ½: no skewness term, v₂ < 2 so ν = n − 1: the delta-method interval the report used before.
        Case(name: "symmetric_half", values: symmetricHalf, range: (0, 1), level: 0.90,
            lower: 0.4251936073379486, upper: 0.5748063926620514, degreesOfFreedom: 4,
            tUpper: 0.5753721659531161),
        Case(name: "symmetric_half", values: symmetricHalf, range: (0, 1), level: 0.95,
            lower: 0.4030798593307462, upper: 0.5969201406692538, degreesOfFreedom: 4,
            tUpper: 0.5981621580738778),
        // A spread only values on both sides reach (σ²/(u(1 − u)) ≈ 0.33): v₂ held at 2, ν = n − 1.
        Case(name: "diverged_seed", values: divergedSeed, range: (0, 1), level: 0.90,
            lower: 0.6284445355078769, upper: 0.9402997471830119, degreesOfFreedom: 5,
            tUpper: 0.9915323463779059),
        Case(name: "diverged_seed", values: divergedSeed, range: (0, 1), level: 0.95,
            lower: 0.5483037006955391, upper: 0.9544958203059328, degreesOfFreedom: 5,
            tUpper: 1.0305517344242454),
        // Both lower ends are Hoeffding's (mean − √(ln 20/10) and mean − √(ln 40/10)).
        Case(name: "one_off_the_bound", values: oneOffTheBound, range: (0, 1), level: 0.90,
            lower: 0.4326671694888027, upper: 0.9971279583903873, degreesOfFreedom: 2.3917938910816976,
            tUpper: 1.022636935726533),
        Case(name: "one_off_the_bound", values: oneOffTheBound, range: (0, 1), level: 0.95,
            lower: 0.372638538091695, upper: 0.9986004601186801, degreesOfFreedom: 2.3917938910816976,
            tUpper: 1.035528902103956),
        Case(name: "three_near_zero", values: threeNearZero, range: (0, 1), level: 0.90,
            lower: 0.00905382732269655, upper: 0.15509538285814112, degreesOfFreedom: 2,
            tUpper: 0.06176052577860276),
        Case(name: "three_near_zero", values: threeNearZero, range: (0, 1), level: 0.95,
            lower: 0.005801914868325492, upper: 0.537945843277605, degreesOfFreedom: 2,
            tUpper: 0.07837811679208931),
    ]

    @Test("matches the Python reference", arguments: cases.indices)
    func matchesReference(index: Int) throws {
        let item = Self.cases[index]
        let summary = Summary(values: item.values, bootstrap: nil)
        let mean = try #require(summary.mean)
        let sd = try #require(summary.sd)
        let interval = try #require(
            Interval.logitMean(
                mean: mean, sd: sd, count: item.values.count, level: item.level, lowerBound: item.range.0,
                upperBound: item.range.1))
        expectClose(interval.lower, item.lower, .closedForm, "\(item.name) lower")
        expectClose(interval.upper, item.upper, .closedForm, "\(item.name) upper")
        let width = item.range.1 - item.range.0
        let correction = LogitSkewCorrection(
            u: (mean - item.range.0) / width, sd: sd / width, count: item.values.count)
        expectClose(correction.degreesOfFreedom, item.degreesOfFreedom, .closedForm, "\(item.name) ν")
        // The t interval the report gives a metric without a declared range is unchanged.
        let t = try #require(Interval.studentMean(mean: mean, sd: sd, count: item.values.count, level: item.level))
        expectClose(t.upper, item.tUpper, .closedForm, "\(item.name) t upper")
    }

    @Test("never leaves the range and contains the mean, for any data in it")
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

    @Test("values x and 1 − x give mirrored intervals (a claim near 0 is judged like one near 1)")
    func mirrorsAtTheMidpoint() throws {
        for values in [Self.nearOne, Self.demoLike, Self.divergedSeed, Self.threeNearZero, Self.oneOffTheBound] {
            let mirrored = values.map { 1 - $0 }
            for level in [0.9, 0.95] {
                let a = try #require(Self.interval(values, level: level))
                let b = try #require(Self.interval(mirrored, level: level))
                let tolerance = Tolerance(relative: 1e-12, absolute: 1e-14)
                expectClose(a.lower, 1 - b.upper, tolerance, "lower vs mirrored upper")
                expectClose(a.upper, 1 - b.lower, tolerance, "upper vs mirrored lower")
            }
        }
    }

    @Test("a bounded claim's verdict uses it; intervals stay in range; all runs at 1 give a point")
    func claimUsesLogitScale() throws {
        let claim = Claim(
            metric: "accuracy", dataset: "d", value: 0.99, direction: .higher, tolerance: 0.01,
            range: Interval(lower: 0, upper: 1))
        let check = ClaimCheck.evaluate(values: Self.nearOne, claim: claim)
        #expect(check.intervalScale == .logit)
        expectClose(check.ci95Mean?.upper, 0.9987917123491443, .closedForm, "ci95 upper")
        expectClose(check.ci90Mean?.lower, 0.7024555041431826, .closedForm, "ci90 lower")
        // One-sided 95 % lower bound 0.70 < c − δ = 0.98: not reproduced yet; upper 0.9988 ≥ 0.98: not refuted.
        #expect(check.verdict == .inconclusive)
        let unbounded = ClaimCheck.evaluate(
            values: Self.nearOne,
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
        let check = ClaimCheck.evaluate(values: Self.nearOne, claim: claim)
        let needed = try #require(check.runsNeeded)
        let rule = DecisionRule(
            direction: .higher, claimed: 0.99, tolerance: 0.01, mean: try #require(check.mean), sd: try #require(check.sd),
            range: Interval(lower: 0, upper: 1))
        #expect(rule.verdict(runs: needed) != .inconclusive)
        #expect(rule.verdict(runs: needed - 1) == .inconclusive)
    }

    static func interval(_ values: [Double], level: Double) -> Interval? {
        let summary = Summary(values: values, bootstrap: nil)
        guard let mean = summary.mean, let sd = summary.sd else { return nil }
        return Interval.logitMean(mean: mean, sd: sd, count: values.count, level: level, lowerBound: 0, upperBound: 1)
    }
}
