import Testing

@testable import ReproStats

/// Special functions vs scipy.special.gammaln / betainc / ndtri and scipy.stats.t / f (fixture section
/// "special"), all at 1e-9 relative or better.
@Suite("Special functions")
struct SpecialFunctionTests {
    static let special = Fixture.reference.special

    @Test("log-gamma vs scipy.special.gammaln")
    func logGamma() {
        for point in Self.special.logGamma {
            expectClose(
                SpecialFunctions.logGamma(point.x),
                point.value,
                Tolerance(relative: 1e-12, absolute: 1e-14),
                "lgamma(\(point.x))"
            )
        }
        #expect(abs(SpecialFunctions.logGamma(1)) < 1e-14 && abs(SpecialFunctions.logGamma(2)) < 1e-14)
        #expect(SpecialFunctions.logGamma(0).isNaN && SpecialFunctions.logGamma(-1).isNaN)
    }

    @Test("regularized incomplete beta vs scipy.special.betainc")
    func incompleteBeta() {
        for point in Self.special.incompleteBeta {
            expectClose(
                IncompleteBeta.regularized(point.x, a: point.a, b: point.b),
                point.value,
                Tolerance(relative: 1e-10, absolute: 1e-15),
                "I_\(point.x)(\(point.a), \(point.b))"
            )
            expectClose(
                IncompleteBeta.complement(point.x, a: point.a, b: point.b),
                1 - point.value,
                Tolerance(relative: 1e-9, absolute: 1e-15),
                "1 − I_\(point.x)(\(point.a), \(point.b))"
            )
        }
        #expect(IncompleteBeta.regularized(0, a: 2, b: 3) == 0 && IncompleteBeta.regularized(1, a: 2, b: 3) == 1)
    }

    @Test("Student-t cdf and sf vs scipy.stats.t.cdf / t.sf")
    func studentTProbabilities() {
        for point in Self.special.studentT {
            let distribution = StudentT(degreesOfFreedom: point.df)
            expectClose(distribution.cdf(point.t), point.cdf, .closedForm, "t.cdf(\(point.t), \(point.df))")
            expectClose(distribution.sf(point.t), point.sf, .closedForm, "t.sf(\(point.t), \(point.df))")
        }
    }

    @Test("Student-t quantile vs scipy.stats.t.ppf (≤ 1e-9 relative, any df ≥ 1)")
    func studentTQuantile() {
        for point in Self.special.studentTQuantile {
            expectClose(
                StudentT(degreesOfFreedom: point.df).quantile(point.p),
                point.value,
                .closedForm,
                "t.ppf(\(point.p), \(point.df))"
            )
        }
        let distribution = StudentT(degreesOfFreedom: 7)
        #expect(distribution.quantile(0.5) == 0)
        #expect(distribution.quantile(0) == -.infinity && distribution.quantile(1) == .infinity)
        #expect(distribution.quantile(1.5).isNaN)
    }

    @Test("Student-t density (scipy.stats.t.pdf) and normal cdf/sf (scipy.stats.norm)")
    func densities() {
        expectClose(StudentT(degreesOfFreedom: 7).pdf(0.7), 0.29370813451916694, .closedForm, "t.pdf(0.7, 7)")
        expectClose(StudentT(degreesOfFreedom: 2.5).pdf(-3.1), 0.022875563404488788, .closedForm, "t.pdf(-3.1, 2.5)")
        expectClose(StudentT(degreesOfFreedom: 1).pdf(0), 1 / Double.pi, .closedForm, "Cauchy density at 0")
        expectClose(Normal.cdf(-1.3), 0.09680048458561036, .closedForm, "norm.cdf(-1.3)")
        expectClose(Normal.sf(5.2), 9.96442631693347e-08, .closedForm, "norm.sf(5.2)")
    }

    @Test("Student-t quantile inverts the cdf for non-integer df too")
    func quantileRoundTrip() {
        for df in [1.5, 2.5, 3.3, 6.75, 41.2] {
            let distribution = StudentT(degreesOfFreedom: df)
            for p in [0.001, 0.05, 0.2, 0.7, 0.975, 0.9999] {
                expectClose(
                    distribution.cdf(distribution.quantile(p)),
                    p,
                    Tolerance(relative: 1e-12, absolute: 0),
                    "cdf(ppf(\(p))) df=\(df)"
                )
            }
        }
    }

    @Test("F survival function vs scipy.stats.f.sf")
    func fSurvival() {
        for point in Self.special.fSf {
            let distribution = FDistribution(numerator: point.d1, denominator: point.d2)
            expectClose(
                distribution.sf(point.f),
                point.value,
                .closedForm,
                "f.sf(\(point.f), \(point.d1), \(point.d2))"
            )
            expectClose(
                distribution.cdf(point.f),
                1 - point.value,
                Tolerance(relative: 1e-9, absolute: 1e-15),
                "f.cdf(\(point.f))"
            )
        }
        #expect(FDistribution(numerator: 2, denominator: 3).sf(0) == 1)
    }

    @Test("normal quantile vs scipy.special.ndtri")
    func normalQuantile() {
        for point in Self.special.normalQuantile {
            expectClose(
                Normal.quantile(point.p),
                point.value,
                Tolerance(relative: 1e-13, absolute: 1e-15),
                "ndtri(\(point.p))"
            )
        }
        expectClose(Normal.quantile(0.975), Wilson.z95, Tolerance(relative: 1e-15, absolute: 0), "z95")
    }
}
