import Foundation
import Testing

@testable import ReproStats

@Suite("Edge cases: tiny, constant, huge and non-finite inputs")
struct EdgeCaseTests {
    /// JSONEncoder throws on NaN and infinity, so a successful encoding proves there are none.
    func encodes(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: Never.self, sourceLocation: sourceLocation) { _ = try JSONEncoder().encode(value) }
    }

    @Test("n = 0: only n and an empty outlier list")
    func empty() throws {
        let summary = Summary(values: [])
        #expect(summary.n == 0 && summary.mean == nil && summary.sd == nil && summary.median == nil)
        #expect(summary.mad == nil && summary.iqm == nil && summary.min == nil && summary.range == nil)
        #expect(summary.ci95Mean == nil && summary.ci95Bootstrap == nil && summary.pi95NextRun == nil)
        #expect(summary.outliers.isEmpty)
        encodes(summary)
        let json = try JSONValue.encoding(summary)
        #expect(json == .object(["n": .number(0), "non_finite": .number(0), "outliers": .array([])]))

        let check = ClaimCheck.evaluate(
            values: [],
            claim: Claim(metric: "m", dataset: "d", value: 1, direction: .higher)
        )
        #expect(check.verdict == .insufficientRuns && check.mean == nil && check.claimPercentile == nil)
        encodes(check)
        #expect(Bootstrap.bcaMeanInterval(of: []) == nil)
        encodes(VarianceDecomposition.oneWay(groups: []))
        encodes(VarianceDecomposition.acrossDatasets([[], []]))
    }

    @Test("n = 1: location statistics only")
    func single() {
        let summary = Summary(values: [0.9])
        #expect(summary.mean == 0.9 && summary.median == 0.9 && summary.iqm == 0.9 && summary.mad == 0)
        #expect(summary.min == 0.9 && summary.max == 0.9 && summary.range == 0)
        #expect(summary.sd == nil && summary.se == nil && summary.cv == nil && summary.cvStar == nil)
        #expect(summary.ci95Mean == nil && summary.pi95NextRun == nil && summary.outliers.isEmpty)
        encodes(summary)
        let check = ClaimCheck.evaluate(
            values: [0.9],
            claim: Claim(metric: "m", dataset: "d", value: 0.9, direction: .equal),
            nMin: 1
        )
        #expect(check.verdict == .insufficientRuns, "an sd needs two runs, whatever n_min says")
        #expect(check.nMin == 2)
    }

    @Test("n = 2: t(0.975, 1) = 12.706204736174698 (scipy.stats.t.ppf)")
    func two() throws {
        let summary = Summary(values: [1, 2])
        expectClose(summary.sd, 0.5.squareRoot(), .closedForm, "sd")
        let halfWidth = 12.706204736174698 * 0.5
        expectClose(summary.ci95Mean?.lower, 1.5 - halfWidth, .closedForm, "ci lower")
        expectClose(
            summary.cvStar,
            (1 + 1.0 / 8) * (0.5.squareRoot() / (2 / Double.pi).squareRoot()) / 1.5 * 100,
            .closedForm,
            "cv* with c4(2) = √(2/π)"
        )
        encodes(summary)
    }

    @Test("all-equal values: sd = 0, point intervals, no outliers, decisive verdicts")
    func constant() throws {
        let values = [Double](repeating: 0.1, count: 12)
        let summary = Summary(values: values)
        #expect(summary.sd == 0 && summary.se == 0 && summary.cv == 0 && summary.cvStar == 0 && summary.mad == 0)
        #expect(summary.mean == 0.1 && summary.median == 0.1 && summary.iqm == 0.1)
        #expect(summary.ci95Mean == Interval(lower: 0.1, upper: 0.1))
        #expect(summary.ci95Bootstrap == Interval(lower: 0.1, upper: 0.1))
        #expect(summary.pi95NextRun == Interval(lower: 0.1, upper: 0.1))
        #expect(summary.outliers.isEmpty)
        encodes(summary)

        let zeros = Summary(values: [0, 0, 0])
        #expect(zeros.cv == nil && zeros.cvStar == nil, "cv undefined at mean 0")

        let reproduced = ClaimCheck.evaluate(
            values: values,
            claim: Claim(metric: "m", dataset: "d", value: 0.1, direction: .higher)
        )
        #expect(reproduced.verdict == .reproduced && reproduced.runsNeeded == nil)
        #expect(reproduced.tTest == nil && reproduced.tostP == nil && reproduced.standardizedGap == nil)
        #expect(reproduced.gap == 0)
        encodes(reproduced)
        let missed = ClaimCheck.evaluate(
            values: values,
            claim: Claim(metric: "m", dataset: "d", value: 0.2, direction: .higher, tolerance: 0.01)
        )
        #expect(missed.verdict == .notReproduced)
        let equal = ClaimCheck.evaluate(
            values: values,
            claim: Claim(metric: "m", dataset: "d", value: 0.105, direction: .equal, tolerance: 0.01)
        )
        #expect(equal.verdict == .reproduced)
    }

    @Test("a single deviating run among identical ones is an outlier (MAD = 0 fallback)")
    func madZeroOutlier() {
        let summary = Summary(values: [0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.5])
        #expect(summary.outliers == [5])
        #expect(Summary(values: [1, 2, 3, 4, 100]).outliers == [4])
    }

    @Test("non-finite values are left out and counted; outlier indices refer to the input")
    func nonFinite() {
        let summary = Summary(values: [.nan, 1, 1.1, 0.9, 1.05, .infinity, 0.95, 25])
        #expect(summary.n == 6 && summary.nonFinite == 2)
        #expect(summary.outliers == [7])
        encodes(summary)
        let anova = OneWayANOVA(groups: [[1, .nan, 2], [3, 4]])
        #expect(anova.n == 4)
        encodes(anova)
    }

    @Test("100 000 values: summary, claim check and a bootstrap at that size")
    func large() throws {
        var data = TestData(seed: 100_000)
        let values = data.normal(100_000, mean: 0.75, sd: 0.02)
        let summary = Summary(values: values, bootstrap: nil)
        let mean = try #require(summary.mean)
        #expect(summary.n == 100_000)
        expectClose(summary.sd, 0.02, .absolute(3e-4), "sd")
        expectClose(
            try #require(summary.ci95Mean).width,
            2 * 1.959_99 * 0.02 / 100_000.0.squareRoot(),
            .absolute(2e-6),
            "ci width ≈ 2 z σ/√n"
        )
        expectClose(summary.iqm, 0.75, .absolute(5e-4), "iqm")
        expectClose(summary.mad, 0.02, .absolute(5e-4), "mad ~ σ")
        // |modified z| > 3.5 is |x − median| > 3.5 σ for normal data: P = 4.65e-4, about 47 of 100 000.
        #expect((20...80).contains(summary.outliers.count), "\(summary.outliers.count) outliers")
        encodes(summary)

        // Full 9 999-resample cost is measured in release by the Bench target; here a smaller B keeps debug fast.
        let interval = try #require(Bootstrap.bcaMeanInterval(of: values, options: BootstrapOptions(resamples: 199)))
        #expect(interval.contains(mean))
        expectClose(
            interval.width,
            try #require(summary.ci95Mean).width,
            Tolerance(relative: 0.3, absolute: 0),
            "BCa ≈ t interval at n = 100 000"
        )

        let check = ClaimCheck.evaluate(
            values: values,
            claim: Claim(metric: "m", dataset: "d", value: 0.75, direction: .equal, tolerance: 0.001)
        )
        #expect(check.verdict == .reproduced)
        #expect(try #require(check.expectedMax5) > mean)
    }

    @Test("claims: default tolerance is 2 % of |c|, n below n_min is insufficient")
    func claimDefaults() {
        let claim = Claim(metric: "loss", dataset: "d", value: -2.5, direction: .lower)
        #expect(claim.effectiveTolerance == 0.05)
        let check = ClaimCheck.evaluate(values: [-2.5, -2.49, -2.52, -2.51], claim: claim)
        #expect(check.verdict == .insufficientRuns && check.toleranceIsDefault && check.tolerance == 0.05)
        #expect(check.mean != nil && check.tTest != nil, "statistics are still reported")
        let decided = ClaimCheck.evaluate(values: [-2.5, -2.49, -2.52, -2.51], claim: claim, nMin: 3)
        #expect(decided.verdict == .reproduced)
    }

    @Test("runs_needed is nil when the mean sits exactly on a decision boundary")
    func unreachable() {
        let check = ClaimCheck.evaluate(
            values: [1, 2, 3, 4, 5],
            claim: Claim(metric: "m", dataset: "d", value: 2, direction: .equal, tolerance: 1)
        )
        #expect(check.verdict == .inconclusive)
        #expect(check.runsNeeded == nil)
    }

    @Test("variance decomposition: deterministic replicas, no replicas, a single seed, unbalanced two-way")
    func varianceEdges() throws {
        let deterministic = VarianceDecomposition.oneWay(groups: [[0.9, 0.9], [0.91, 0.91], [0.92, 0.92]])
        #expect(deterministic.deterministicShare == 1 && deterministic.maxReplicaDifference == 0)
        #expect(deterministic.varRepeat == 0 && deterministic.f == nil && deterministic.p == 0)
        #expect(deterministic.icc == 1)
        encodes(deterministic)

        let noReplicas = VarianceDecomposition.oneWay(groups: [[0.9], [0.91], [0.93]])
        #expect(noReplicas.msw == nil && noReplicas.varSeed == nil && noReplicas.deterministicShare == nil)
        let totalSD = try #require(Summary(values: [0.9, 0.91, 0.93]).sd)
        expectClose(noReplicas.reproducibility, 2.8 * totalSD, .closedForm, "R total")
        encodes(noReplicas)

        let oneSeed = VarianceDecomposition.oneWay(groups: [[0.9, 0.905, 0.91]])
        #expect(oneSeed.msb == nil && oneSeed.varSeed == nil)
        expectClose(oneSeed.varRepeat, 0.000025, .closedForm, "var repeat")
        encodes(oneSeed)

        #expect(VarianceDecomposition.twoWay([[[1, 2], [3, 4]], [[1, 2], [3]]]) == nil)
        #expect(VarianceDecomposition.twoWay([[[1, 2], [3, 4]]]) == nil)
        let flat = try #require(VarianceDecomposition.twoWay([[[1, 1], [1, 1]], [[1, 1], [1, 1]]]))
        #expect(flat.fHardware == nil && flat.shareSeed == nil)
        encodes(flat)
    }
}
