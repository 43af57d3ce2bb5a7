import Testing

@testable import ReproStats

/// Holm-adjusted verdicts across a study's claims (docs/statistics.md §2b).
@Suite("Holm-adjusted verdicts")
struct HolmTests {
    static func claim(_ direction: Claim.Direction = .higher) -> Claim {
        Claim(metric: "accuracy", dataset: "d", value: 0.95, direction: direction, tolerance: 0.01)
    }

    /// References/issue15_references.py: reproduced p-values by `scipy.stats.t.sf`, Holm step-down by hand.
    @Test("three claims: per claim all reproduced, Holm keeps only the strongest (scipy p-values)")
    func threeClaims() {
        let values = [
            [0.958663, 0.967607, 0.972079, 0.976552, 0.985496],
            [0.938215, 0.947159, 0.951631, 0.956103, 0.965047],
            [0.936539, 0.945483, 0.949955, 0.954428, 0.963372],
        ]
        let checks = values.map { ClaimCheck.evaluate(values: $0, claim: Self.claim()) }
        #expect(checks.map(\.verdict) == [.reproduced, .reproduced, .reproduced])
        let expectedP = [0.0010000592363158874, 0.029997230453804164, 0.04500181614558024]
        for (check, p) in zip(checks, expectedP) {
            expectClose(check.decisionPValues?.reproduced, p, .closedForm, "reproduced p")
        }
        #expect(Holm.verdicts(checks) == [.reproduced, .inconclusive, .inconclusive])
        #expect(Holm.familySize(checks) == 3)
    }

    @Test("one claim: Holm is the per-claim verdict, for every direction and many data sets")
    func singleClaimAgrees() {
        var random = WyRand(seed: 1515)
        for trial in 0..<3_000 {
            let direction = Claim.Direction.allCases[trial % 3]
            let count = 2 + trial % 12
            let shift = Double(Int(random.next() % 41) - 20) * 0.001
            let spread = [0.0005, 0.003, 0.01, 0.03][trial % 4]
            let values = (0..<count).map { _ in 0.95 + shift + spread * (Double(random.next() >> 11) * 0x1p-53 - 0.5) }
            let bounded = trial % 2 == 0
            var claim = Self.claim(direction)
            if bounded { claim.range = Interval(lower: 0, upper: 1) }
            let check = ClaimCheck.evaluate(values: values, claim: claim, nMin: 2)
            #expect(Holm.verdicts([check]) == [check.verdict], "trial \(trial)")
        }
    }

    @Test("Holm never decides a claim the per-claim rule leaves open, nor the other way round")
    func neverContradicts() {
        var random = WyRand(seed: 99)
        for _ in 0..<500 {
            let checks = (0..<4).map { _ in
                let shift = Double(Int(random.next() % 31) - 15) * 0.001
                let values = (0..<6).map { _ in 0.95 + shift + 0.01 * (Double(random.next() >> 11) * 0x1p-53 - 0.5) }
                return ClaimCheck.evaluate(values: values, claim: Self.claim())
            }
            for (check, holm) in zip(checks, Holm.verdicts(checks)) where holm.isDecided {
                #expect(holm == check.verdict)
            }
        }
    }

    @Test("insufficient runs stay out of the family")
    func insufficientRuns() {
        let decided = ClaimCheck.evaluate(values: [0.97, 0.971, 0.969, 0.972, 0.97], claim: Self.claim())
        let short = ClaimCheck.evaluate(values: [0.97, 0.97], claim: Self.claim())
        #expect(Holm.verdicts([short, decided]) == [.insufficientRuns, .reproduced])
        #expect(Holm.familySize([short, decided]) == 1)
    }
}
