import Testing

@testable import ReproStats

/// `repro plan`'s numbers against scipy (References/issue15_references.py: `scipy.stats.nct.sf` with
/// `scipy.stats.t.ppf`, scipy 1.17.1).
@Suite("Planning runs per claim")
struct PlanTests {
    struct Case: Sendable {
        let sd: Double
        let tolerance: Double
        let direction: Claim.Direction
        let runs: [Int]  // reproduced 80, 90, not reproduced 80, 90 (scipy, before the n_min floor)
        let powerReproduced10: Double
        let powerNotReproduced10: Double
    }

    static let cases = [
        Case(sd: 0.01, tolerance: 0.01, direction: .higher, runs: [8, 11, 10, 13],
            powerReproduced10: 0.8975169943396828, powerNotReproduced10: 0.8030962086904041),
        Case(sd: 0.006, tolerance: 0.01, direction: .higher, runs: [4, 5, 6, 7],
            powerReproduced10: 0.9992785709737119, powerNotReproduced10: 0.9964471090597306),
        Case(sd: 0.02, tolerance: 0.01, direction: .lower, runs: [27, 36, 34, 44],
            powerReproduced10: 0.4272898267711785, powerNotReproduced10: 0.29282856726663364),
        Case(sd: 0.01, tolerance: 0.01, direction: .equal, runs: [11, 13, 10, 13],
            powerReproduced10: 0.7950339886793656, powerNotReproduced10: 0.8030962086904041),
        Case(sd: 0.05, tolerance: 0.0185, direction: .higher, runs: [47, 64, 60, 79],
            powerReproduced10: 0.28697500415622545, powerNotReproduced10: 0.18105733953976083),
    ]

    @Test("power and runs match scipy", arguments: cases.indices)
    func matchesScipy(index: Int) {
        let item = Self.cases[index]
        let claim = Claim(metric: "accuracy", dataset: "d", value: 0.925, direction: item.direction, tolerance: item.tolerance)
        expectClose(
            ClaimPlan.reproducedPower(runs: 10, sd: item.sd, tolerance: item.tolerance, equal: item.direction == .equal),
            item.powerReproduced10, Tolerance(relative: 1e-7, absolute: 1e-9), "power reproduced n = 10")
        expectClose(
            ClaimPlan.notReproducedPower(runs: 10, sd: item.sd, tolerance: item.tolerance), item.powerNotReproduced10,
            Tolerance(relative: 1e-7, absolute: 1e-9), "power not reproduced n = 10")
        let plan = ClaimPlan(claim: claim, sd: item.sd)
        let floored: [Int?] = item.runs.map { max($0, ClaimCheck.defaultMinimumRuns) }
        #expect([plan.reproducedRuns80, plan.reproducedRuns90, plan.notReproducedRuns80, plan.notReproducedRuns90] == floored)
    }

    @Test("noncentral t tail against scipy.stats.nct.sf, ν = 1 to 60")
    func noncentralT() {
        // scipy.stats.nct.sf(t, df, nc), printed by scipy 1.17.1.
        let cases: [(Double, Double, Double, Double)] = [
            (1.8, 1, 2.0, 0.6722421523572623), (2.1, 4, 3.0, 0.7989720315246054),
            (1.7, 9, 0.5, 0.14157834560782143), (-0.5, 2, -1.0, 0.29342253607483315),
            (2.0, 59, 4.2, 0.9850632095184487), (3.0, 30, 1.0, 0.03249824190748569),
        ]
        for (t, df, nc, expected) in cases {
            expectClose(NoncentralT.sf(t, degreesOfFreedom: df, noncentrality: nc), expected, Tolerance(relative: 1e-7, absolute: 1e-10), "nct.sf(\(t), \(df), \(nc))")
        }
    }
}
