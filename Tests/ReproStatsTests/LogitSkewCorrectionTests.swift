import Testing

@testable import ReproStats

/// The parts of the bounded-metric rule (docs/statistics.md §2a): Hall's transformation, the degrees of freedom
/// from the second-order expansion (References/issue15_beta_expansion.py, sympy 1.14), Hoeffding's envelope, and
/// the verdict's p-values and `runs_needed` built on them.
@Suite("Skewness correction of the logit-scale statistic")
struct LogitSkewCorrectionTests {
    /// v₂ printed by issue15_beta_expansion.py: the coefficient derived from the expansion itself, evaluated in exact
    /// rational arithmetic (the Swift code uses the closed form in w and ρ the script also prints).
    static let expansion: [(u: Double, sd: Double, v2: Double)] = [
        (0.94, 0.05, 3.1552600217791122),
        (0.95, 0.05, 3.7155272391505078),
        (0.06, 0.05, 3.1552600217791122),
        (0.99, 0.01, 4.6811951531476380),
        (0.9, 0.1, 2.6905679012345679),
        (0.975, 0.02, 3.5412534566895874),
        // Below 2 (far from the bounds; a spread only values on both bounds reach): held at 2.
        (0.5, 0.05, 1.9275907590759076),
        (0.3, 0.2, 1.0668631655328798),
    ]

    @Test("v₂ is the sympy expansion's, never below 2")
    func varianceCoefficient() {
        for point in Self.expansion {
            expectClose(
                LogitSkewCorrection.varianceCoefficient(u: point.u, sd: point.sd), Swift.max(point.v2, 2),
                Tolerance(relative: 1e-12, absolute: 0), "v₂(\(point.u), \(point.sd))")
        }
    }

    @Test("ν = 2 + (n − 3)·2/v₂: n − 1 at the midpoint and for n ≤ 3, fewer near a bound, never more")
    func degreesOfFreedom() {
        for count in [2, 3, 4, 5, 10, 50, 1_000] {
            #expect(LogitSkewCorrection(u: 0.5, sd: 0.05, count: count).degreesOfFreedom == Double(count - 1))
            for point in Self.expansion {
                let nu = LogitSkewCorrection(u: point.u, sd: point.sd, count: count).degreesOfFreedom
                #expect(nu <= Double(count - 1) && nu >= 1)
                if count > 3 {
                    let expected = 2 + Double(count - 3) * 2 / Swift.max(point.v2, 2)
                    expectClose(nu, expected, Tolerance(relative: 1e-12, absolute: 0), "ν at n \(count)")
                } else {
                    #expect(nu == Double(count - 1))
                }
            }
        }
    }

    @Test("Student-t quantiles with the real df the correction gives (scipy.stats.t.ppf)")
    func realDegreesOfFreedom() {
        let points: [(p: Double, df: Double, value: Double)] = [
            (0.95, 6.44, 1.919660368161078), (0.975, 3.27, 3.038834422022738), (0.95, 1.4, 3.981053824229538),
        ]
        for point in points {
            let quantile = StudentT(degreesOfFreedom: point.df).quantile(point.p)
            expectClose(quantile, point.value, .closedForm, "t.ppf(\(point.p), \(point.df))")
        }
    }

    @Test("Hall's g is increasing and g⁻¹ undoes it, for skew of either sign and far into the tails")
    func hallInverts() {
        for a in [-0.5, -0.1, -1e-9, 0, 1e-9, 0.05, 0.3] {
            for b in [-0.3, 0, 0.2] {
                let g = HallTransformation(a: a, b: b)
                var previous = -Double.infinity
                for step in -400...400 {
                    let t = Double(step) / 8
                    let s = g.transform(t)
                    #expect(s >= previous, "g not increasing at a \(a), t \(t)")
                    previous = s
                    let back = g.inverse(s)
                    let tight = Tolerance(relative: 1e-12, absolute: 1e-12)
                    expectClose(g.transform(back), s, tight, "g(g⁻¹(\(s))) at a \(a)")
                    // At t = −1/a, where g′ = (1 + a·t)² = 0, g⁻¹ has a cube-root point and t comes back only to
                    // about 1e-5; everywhere else to rounding.
                    if abs(1 + a * t) > 0.01 {
                        expectClose(back, t, Tolerance(relative: 1e-9, absolute: 1e-9), "g⁻¹(g(\(t))) at a \(a)")
                    }
                }
            }
        }
        let identity = HallTransformation(a: 0, b: 0)
        #expect(identity.transform(1.7) == 1.7 && identity.inverse(-2.3) == -2.3)
        #expect(HallTransformation(a: -0.1, b: 0.1).inverse(.infinity) == .infinity)
        #expect(HallTransformation(a: 0.1, b: 0.1).inverse(-.infinity) == -.infinity)
    }

    @Test("Hoeffding: half-width and p-value are each other's inverse")
    func hoeffding() {
        // √(ln 20 / (2·5)) for 5 values in [0, 1] at one-sided 95 % (Python: math.sqrt(math.log(20) / 10)).
        expectClose(Hoeffding.halfWidth(count: 5, alpha: 0.05, width: 1), 0.5473328305111974, .closedForm, "half-width")
        let d = Hoeffding.halfWidth(count: 12, alpha: 0.01, width: 100)
        expectClose(Hoeffding.pValue(excess: d, count: 12, width: 100), 0.01, .closedForm, "p at the half-width")
        #expect(Hoeffding.pValue(excess: 0, count: 12, width: 1) == 1)
        #expect(Hoeffding.pValue(excess: -0.3, count: 12, width: 1) == 1)
    }

    /// Bounded claims in every direction on data piled near either bound, with spreads from tiny to diverged runs.
    static func boundedChecks(seed: UInt64, trials: Int) -> [(ClaimCheck, DecisionRule)] {
        var random = WyRand(seed: seed)
        var result: [(ClaimCheck, DecisionRule)] = []
        for trial in 0..<trials {
            let direction = Claim.Direction.allCases[trial % 3]
            let count = 2 + trial % 15
            let nearOne = trial % 2 == 0
            let spread = [0.003, 0.02, 0.08, 0.3][trial % 4]
            let values = (0..<count).map { _ -> Double in
                let u = Double(random.next() >> 11) * 0x1p-53
                let v = spread * u * u
                return nearOne ? 1 - v : v
            }
            let offset = (Double(random.next() >> 11) * 0x1p-53 - 0.5) * 2 * spread
            let center = nearOne ? 1 - spread / 3 + offset : spread / 3 + offset
            let claimed = Swift.min(Swift.max(center, 0.001), 0.999)
            let claim = Claim(
                metric: "accuracy", dataset: "d", value: claimed, direction: direction, tolerance: spread / 4,
                range: Interval(lower: 0, upper: 1))
            let check = ClaimCheck.evaluate(values: values, claim: claim, nMin: 2)
            guard let mean = check.mean, let sd = check.sd else { continue }
            let rule = DecisionRule(
                direction: direction, claimed: claim.value, tolerance: check.tolerance, mean: mean, sd: sd,
                range: claim.range)
            result.append((check, rule))
        }
        return result
    }

    @Test("p-values pass α exactly when the interval at 1 − 2α passes the limit (the verdict, Holm, the looks)")
    func pValuesAgreeWithIntervals() {
        var decided = 0
        for (check, rule) in Self.boundedChecks(seed: 2026, trials: 3_000) {
            guard let p = check.decisionPValues else { continue }
            #expect((check.verdict == .reproduced) == (p.reproduced <= 0.05), "\(check.claim) \(rule.mean) \(rule.sd)")
            #expect((check.verdict == .notReproduced) == (p.notReproduced < 0.05), "\(check.claim)")
            if check.verdict.isDecided { decided += 1 }
            // At another level, with the interval of DecisionRule.interval: the same equivalence for `higher`.
            if rule.direction == .higher {
                let lower = rule.interval(runs: check.n, quantile: 0.99).lower
                #expect((lower >= rule.claimed - rule.tolerance) == (p.reproduced <= 0.01), "α = 0.01 \(check.claim)")
            }
        }
        #expect(decided > 300)
    }

    @Test("once decisive, a bounded claim's verdict stays decisive as n grows (runs_needed bisects on it)")
    func verdictMonotoneInRuns() {
        for (check, rule) in Self.boundedChecks(seed: 77, trials: 600) {
            var wasDecided = false
            for n in 2...120 {
                let decided = rule.verdict(runs: n).isDecided
                #expect(!wasDecided || decided, "\(check.claim) \(rule.mean) \(rule.sd): decided before n = \(n)")
                wasDecided = wasDecided || decided
            }
        }
    }
}
