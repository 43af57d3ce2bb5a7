import Testing

@testable import ReproStats

/// statistics.md §6 and `statistics-worked-example.py`. Full-precision references were printed by scipy 1.17.1 /
/// numpy 2.4.6 (the calls are named per test); the rounded table values of the doc are checked at the precision
/// they are printed with.
@Suite("Worked example of statistics.md §6")
struct WorkedExampleTests {
    static let runs = [0.912, 0.905, 0.917, 0.909, 0.921, 0.903, 0.915, 0.911]
    static let claim = Claim(metric: "accuracy", dataset: "example", value: 0.925, direction: .higher, tolerance: 0.01)

    /// |actual − printed| ≤ half a unit in the last printed place.
    func expectPrinted(
        _ actual: Double?,
        _ printed: Double,
        decimals: Int,
        _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var unit = 1.0
        for _ in 0..<decimals { unit /= 10 }
        expectClose(actual, printed, .absolute(unit / 2 + 1e-15), label, sourceLocation: sourceLocation)
    }

    @Test("mean, sd, se, t quantile, intervals (numpy.mean/std, scipy.stats.t)")
    func summary() {
        let summary = Summary(values: Self.runs)
        expectClose(summary.mean, 0.9116250000000001, .closedForm, "mean")
        expectClose(summary.sd, 0.006022280061808585, .closedForm, "sd")
        expectClose(summary.se, 0.0021291975349546953, .closedForm, "se")
        expectClose(StudentT(degreesOfFreedom: 7).quantile(0.975), 2.364624251592784, .closedForm, "t(0.975, 7)")
        expectClose(StudentT(degreesOfFreedom: 4).quantile(0.975), 2.7764451051977934, .closedForm, "t(0.975, 4)")
        expectClose(summary.ci95Mean?.lower, 0.9065902478724147, .closedForm, "ci95 lower")
        expectClose(summary.ci95Mean?.upper, 0.9166597521275855, .closedForm, "ci95 upper")
        expectClose(summary.pi95NextRun?.lower, 0.8965207436172438, .closedForm, "pi95 lower")
        expectClose(summary.pi95NextRun?.upper, 0.9267292563827565, .closedForm, "pi95 upper")
        expectClose(summary.median, 0.9115, .closedForm, "median")
        expectClose(summary.mad, 0.006671709983275297, .closedForm, "mad (scale='normal')")
        expectClose(summary.iqm, 0.9117500000000001, .closedForm, "iqm (trim_mean 0.25)")
        expectClose(summary.cv, 100 * 0.006606093582129257, .closedForm, "cv %")
        expectClose(summary.cvStar, 0.7059397932131648, .closedForm, "cv* (QRA of the example ×100)")
        #expect(summary.outliers.isEmpty)
        #expect(summary.ci95Bootstrap == nil, "n = 8 < 10: no bootstrap interval in the summary")

        // The doc's table, at its printed precision.
        expectPrinted(summary.sd, 0.0060222801, decimals: 10, "table sd")
        expectPrinted(summary.se, 0.0021291975, decimals: 10, "table se")
        expectPrinted(summary.ci95Mean?.lower, 0.9065902479, decimals: 10, "table ci95 lower")
        expectPrinted(summary.pi95NextRun?.upper, 0.9267292564, decimals: 10, "table pi95 upper")
        expectPrinted(summary.mad, 0.0066717100, decimals: 10, "table mad")
    }

    @Test("BCa bootstrap, seed 0, 9 999 resamples ≈ (0.90800, 0.91575), scipy.stats.bootstrap BCa: (0.908, 0.91575)")
    func bootstrap() throws {
        let interval = try #require(Bootstrap.bcaMeanInterval(of: Self.runs))
        expectClose(interval.lower, 0.9079999999999999, .absolute(2e-3), "BCa lower")
        expectClose(interval.upper, 0.9157500000000001, .absolute(2e-3), "BCa upper")
        // Much tighter in fact: Monte-Carlo error here is about 5e-5.
        expectClose(interval.lower, 0.908, .absolute(2.5e-4), "BCa lower (MC scale)")
        expectClose(interval.upper, 0.91575, .absolute(2.5e-4), "BCa upper (MC scale)")
        #expect(Bootstrap.bcaMeanInterval(of: Self.runs) == interval, "same seed, same interval")
    }

    @Test("claim check: t-test, TOST, expected max, verdict inconclusive with runs_needed = 15")
    func claimCheck() throws {
        let check = ClaimCheck.evaluate(values: Self.runs, claim: Self.claim)
        let tTest = try #require(check.tTest)
        expectClose(tTest.t, -6.281709320260182, .closedForm, "ttest_1samp t")
        expectClose(tTest.p, 0.00041135170107489525, .closedForm, "ttest_1samp p")
        #expect(tTest.df == 7)
        expectClose(check.tostP, 0.9215191753185397, .closedForm, "TOST p (ttest_1samp greater vs c − δ)")
        expectClose(check.ci90Mean?.lower, 0.9075910679042646, .closedForm, "90 % CI lower")
        expectClose(check.ci90Mean?.upper, 0.9156589320957357, .closedForm, "90 % CI upper")
        expectClose(check.gap, 0.9116250000000001 - 0.925, .closedForm, "gap")
        expectClose(check.standardizedGap, -2.2209196288993565, .closedForm, "standardized gap")
        expectClose(check.claimPercentile, 100, .closedForm, "percentileofscore(weak)")
        expectClose(check.expectedMax1, 0.911625, .closedForm, "E max k=1")
        expectClose(check.expectedMax3, 0.9171428571428573, .closedForm, "E max k=3")
        expectClose(check.expectedMax5, 0.9192321428571429, .closedForm, "E max k=5")
        expectClose(check.expectedMin5, 0.9042142857142856, .closedForm, "E min k=5")
        #expect(check.possibleSeedSelection, "0.925 ≥ expected best of 5 = 0.919232")
        expectClose(ExpectedMaximum.withoutReplacement(Self.runs, k: 8), 0.921, .closedForm, "E max k=8 = max")
        expectClose(ExpectedMaximum.minimumWithoutReplacement(Self.runs, k: 8), 0.903, .closedForm, "E min k=8 = min")
        #expect(ExpectedMaximum.withoutReplacement(Self.runs, k: 9) == nil)
        #expect(check.verdict == .inconclusive)
        #expect(check.runsNeeded == 15)
        #expect(check.tolerance == 0.01 && !check.toleranceIsDefault)

        expectPrinted(tTest.t, -6.281709, decimals: 6, "table t")
        expectPrinted(check.tostP, 0.9215, decimals: 4, "table TOST p")
        expectPrinted(check.ci90Mean?.lower, 0.907591, decimals: 6, "table one-sided lower bound")
        expectPrinted(check.ci95Mean?.upper, 0.916660, decimals: 6, "table two-sided upper bound")
        expectPrinted(check.expectedMax3, 0.917143, decimals: 6, "table E max 3")
        expectPrinted(check.expectedMax5, 0.919232, decimals: 6, "table E max 5")
    }

    @Test("one-way ANOVA 3 datasets × 4 seeds: F = 101.6, p = 6.664e−7 (scipy.stats.f_oneway), ICC(1)")
    func oneWayANOVA() {
        let anova = VarianceDecomposition.acrossDatasets([
            [0.91, 0.92, 0.90, 0.93], [0.85, 0.86, 0.84, 0.87], [0.78, 0.80, 0.79, 0.77],
        ])
        expectClose(anova.f, 101.59999999999991, .closedForm, "F")
        expectClose(anova.p, 6.664032162522799e-07, .closedForm, "p")
        expectPrinted(anova.p, 6.664e-7, decimals: 10, "table p")
        expectClose(anova.msBetween, 0.016933333333333335, .closedForm, "MSB")
        expectClose(anova.msWithin, 0.00016666666666666696, .closedForm, "MSW")
        expectClose(anova.varBetween, 0.004191666666666667, .closedForm, "sigma2 dataset")
        expectClose(anova.betweenShare, 0.9617590822179732, .closedForm, "ICC(1) = share between datasets")
        expectClose(anova.n0, 4, .closedForm, "n0 balanced = 4")
    }

    @Test("two-way dataset × hardware × seed, as printed by statistics-worked-example.py")
    func twoWay() throws {
        let values: [[[Double]]] = [
            [[91.2, 91.0, 91.5], [90.6, 90.9, 90.7], [91.4, 91.1, 91.3]],
            [[85.0, 85.4, 85.1], [84.6, 84.5, 84.9], [85.3, 85.2, 85.6]],
        ]
        let result = try #require(VarianceDecomposition.twoWay(values))
        expectPrinted(result.msDataset, 162.6006, decimals: 4, "MS A")
        expectPrinted(result.msHardware, 0.6439, decimals: 4, "MS B")
        expectPrinted(result.msInteraction, 0.0139, decimals: 4, "MS AB")
        expectPrinted(result.msError, 0.0400, decimals: 4, "MS E")
        expectPrinted(result.varDataset, 18.0652, decimals: 4, "var dataset")
        expectPrinted(result.varHardware, 0.1050, decimals: 4, "var hardware")
        expectPrinted(result.varInteraction, 0.0000, decimals: 4, "var dataset:hardware")
        expectPrinted(result.varSeed, 0.0400, decimals: 4, "var seed")
        expectPrinted(result.sdReproducibility, 0.3808, decimals: 4, "s_R")
        expectPrinted(result.sdRepeatability, 0.2000, decimals: 4, "s_r")
        expectPrinted(result.reproducibility, 1.0662, decimals: 4, "R")
        expectPrinted(result.repeatability, 0.5600, decimals: 4, "r")
        expectPrinted(result.shareHardware, 0.724, decimals: 3, "share hardware")
        expectPrinted(result.shareInteraction, 0.000, decimals: 3, "share interaction")
        expectPrinted(result.shareSeed, 0.276, decimals: 3, "share seed")
        expectPrinted(result.fHardware, 46.3600, decimals: 4, "F_B")
        expectPrinted(result.pHardware, 0.02111, decimals: 5, "p_B")
        expectPrinted(result.fInteraction, 0.3472, decimals: 4, "F_AB")
        expectPrinted(result.pInteraction, 0.7135, decimals: 4, "p_AB")
        // Full precision: scipy.stats.f.sf(46.36, 2, 2).
        expectClose(FDistribution(numerator: 2, denominator: 2).sf(46.36), 0.021114864864864864, .closedForm, "f.sf")
    }

    @Test("QRA CV* of Belz et al. 2022: 1.5616560359 for their 7 BLEU scores")
    func qraCVStar() {
        let summary = Summary(values: [84.51, 84.50, 87.46, 85.60, 84.20, 86.61, 86.20])
        expectClose(summary.cvStar, 1.5616560359100269, .closedForm, "CV*")
        expectPrinted(summary.cvStar, 1.5616560359, decimals: 10, "published CV*")
    }

    @Test("Wilson 8/10 (z = 1.96) = 0.490157; Bayesian average R 4.5, v 4, m 10, C 3.6 = 3.857143")
    func ratings() {
        expectClose(Wilson.lowerBound(successes: 8, trials: 10, z: 1.96), 0.49015684672072346, .closedForm, "8/10")
        expectClose(
            Wilson.lowerBound(successes: 8, trials: 10),
            0.4901624715366418,
            .closedForm,
            "binomtest(8,10).proportion_ci(0.95,'wilson').low"
        )
        expectClose(
            Wilson.lowerBound(successes: 8, trials: 10, z: Normal.quantile(0.95)),
            0.540792805687488,
            .closedForm,
            "z = 1.6449"
        )
        expectClose(Wilson.lowerBound(successes: 80, trials: 100, z: 1.96), 0.7111690380734976, .closedForm, "80/100")
        expectClose(Wilson.lowerBound(successes: 2, trials: 2, z: 1.96), 0.3423719528896193, .closedForm, "2/2")
        expectClose(Wilson.lowerBound(successes: 100, trials: 101, z: 1.96), 0.9460315253904807, .closedForm, "100/101")
        expectClose(
            BayesianAverage.value(mean: 4.5, count: 4, priorMean: 3.6, priorWeight: 10),
            3.857142857142857,
            .closedForm,
            "Bayesian average"
        )
    }

    @Test(
        "reproducibility score: 3/3 → 43.85, 7/9 → 45.26, 9/9 → 70.09, 27/30 → 74.38 (scipy binomtest wilson)",
        arguments: [
            (3, 3, 43.85029682449546), (7, 9, 45.258896910698894), (9, 9, 70.08549515804559),
            (27, 30, 74.37891742081591),
        ]
    )
    func score(reproduced: Int, decided: Int, reference: Double) {
        let score = ReproducibilityScore(reproduced: reproduced, decided: decided)
        expectClose(score.score, reference, .closedForm, "\(reproduced)/\(decided)")
        expectPrinted(score.score, (reference * 100).rounded() / 100, decimals: 2, "table value")
        #expect(score.badge == (reproduced == decided ? .reproduced : nil))
    }
}
