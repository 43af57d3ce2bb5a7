import Testing

@testable import ReproStats

/// Lan–DeMets O'Brien–Fleming-type boundaries (docs/statistics.md §2c).
///
/// Reference: the boundaries of this design (the quantity gsDesign computes with `sfu = sfLDOF`,
/// `test.type = 1`), recomputed independently with scipy 1.17.1 by References/issue15_references.py:
/// `scipy.stats.multivariate_normal.cdf` (Genz's algorithm, abseps 1e-8) on the canonical joint distribution
/// and `scipy.optimize.brentq` on each look's increment, for 2–5 equally spaced looks at one-sided α = 0.025 and
/// 0.05. The first look's bound is closed-form (z at α(t₁)); later ones are good to about 1e-5, so they are
/// compared to 1e-4. A second, independent reference is rpact's output below. No printed table could be consulted
/// on this machine.
@Suite("Alpha spending boundaries")
struct AlphaSpendingTests {
    static let scipy: [Double: [Int: [Double]]] = [
        0.025: [
            2: [2.9625880427275484, 1.9685956406355327],
            3: [3.7103028732624996, 2.511427481273355, 1.9930473972734615],
            4: [4.332633646049566, 2.9631315976798747, 2.3590441400449236, 2.0140899395128047],
            5: [4.876884948776417, 3.357011921573214, 2.680280016423676, 2.2898173393146646, 2.031032013407073],
        ],
        0.05: [
            2: [2.5379876034427964, 1.662106581823285],
        ],
    ]

    /// The same designs from rpact 3.3.4 (CRAN, installed here as Debian's `r-cran-rpact`), an independent
    /// implementation published and validated for confirmatory trials:
    /// `getDesignGroupSequential(kMax = K, alpha = α, sided = 1, typeOfDesign = "asOF")$criticalValues`
    /// (script: References/issue15_rpact.R). It agrees with the scipy values above to 2e-6.
    static let rpact: [Double: [Int: [Double]]] = [
        0.025: [
            2: [2.9625880427, 1.9685956463],
            3: [3.7103028733, 2.5114274845, 1.9930474833],
            4: [4.3326336460, 2.9631315991, 2.3590442762, 2.0140901431],
            5: [4.8768849488, 3.3570119217, 2.6802800670, 2.2898167744, 2.0310320631],
        ],
        0.05: [
            2: [2.5379876034, 1.6621065810],
            3: [3.2001019716, 2.1408152357, 1.6948119625],
            4: [3.7495518372, 2.5399425700, 2.0160698518, 1.7201770768],
            5: [4.2291950593, 2.8881365433, 2.2980902866, 1.9618214741, 1.7397045121],
        ],
    ]

    static func fractions(_ looks: Int) -> [Double] { (1...looks).map { Double($0) / Double(looks) } }

    @Test("equal scipy's boundaries to 1e-4 for 2–5 equally spaced looks, α = 0.025 and 0.05", arguments: [0.025, 0.05])
    func scipyReference(alpha: Double) {
        for (looks, expected) in Self.scipy[alpha]! {
            let design = Self.expectBounds(expected, alpha: alpha, source: "scipy")
            // The first look's bound is exact: z at the α spent by t₁.
            expectClose(design.bounds[0], expected[0], .absolute(1e-7), "α = \(alpha), K = \(looks), look 1")
        }
    }

    @Test("equal rpact's published boundaries to 1e-4 for 2–5 equally spaced looks, α = 0.025 and 0.05", arguments: [0.025, 0.05])
    func rpactReference(alpha: Double) {
        for expected in Self.rpact[alpha]!.values {
            Self.expectBounds(expected, alpha: alpha, source: "rpact")
        }
    }

    /// The project's boundaries for `expected.count` equally spaced looks, each within 1e-4 of `expected`.
    @discardableResult
    static func expectBounds(_ expected: [Double], alpha: Double, source: String) -> AlphaSpendingBoundaries {
        let looks = expected.count
        let design = AlphaSpendingBoundaries(fractions: fractions(looks), alpha: alpha)
        #expect(design.bounds.count == looks, "\(source), α = \(alpha), K = \(looks)")
        for (look, (actual, value)) in zip(design.bounds, expected).enumerated() {
            expectClose(actual, value, .absolute(1e-4), "\(source), α = \(alpha), K = \(looks), look \(look + 1)")
        }
        return design
    }

    @Test("spent α follows 2 − 2Φ(z/√t) and one look at t = 1 is the fixed test")
    func spending() {
        let design = AlphaSpendingBoundaries(fractions: [0.25, 0.5, 1], alpha: 0.05)
        // 2 − 2Φ(1.959964/√t): scipy 2 - 2*norm.cdf(norm.ppf(0.975)/sqrt(t)).
        expectClose(design.cumulativeAlpha[2], 0.05, .closedForm, "α(1)")
        expectClose(
            AlphaSpendingBoundaries.obrienFlemingSpent(fraction: 0.5, alpha: 0.025), 0.0015253227579890005,
            Tolerance(relative: 1e-9, absolute: 1e-15), "α(0.5), α = 0.025")
        let single = AlphaSpendingBoundaries(fractions: [1], alpha: 0.05)
        expectClose(single.bounds[0], 1.6448536269514722, .closedForm, "z(0.95)")
        expectClose(single.nominalAlpha[0], 0.05, .closedForm, "nominal α")
        // Later looks of the same plan do not change earlier boundaries.
        let longer = AlphaSpendingBoundaries(fractions: [0.25, 0.5, 0.75, 1], alpha: 0.05)
        expectClose(longer.bounds[1], design.bounds[1], .absolute(1e-9), "look 2")
    }

    @Test("a sequential check with a single look at the maximum is the fixed verdict")
    func singleLookIsFixed() {
        var random = WyRand(seed: 7)
        for trial in 0..<300 {
            let values = (0..<10).map { _ in 0.94 + 0.02 * (Double(random.next() >> 11) * 0x1p-53) }
            let claim = Claim(metric: "m", dataset: "d", value: 0.95, direction: Claim.Direction.allCases[trial % 3], tolerance: 0.005)
            let sequential = SequentialCheck.evaluate(values: values, lookSizes: [10], maximumRuns: 10, claim: claim)
            #expect(sequential.verdict == ClaimCheck.evaluate(values: values, claim: claim).verdict)
        }
    }

    @Test("looks stop at the first decision and say why")
    func stopsAtDecision() {
        let claim = Claim(metric: "m", dataset: "d", value: 0.95, direction: .higher, tolerance: 0.01)
        // Spread so wide that the first look cannot decide, then runs that settle just above the claim.
        let first = [0.90, 1.0, 0.93, 0.99, 0.95]
        let rest = Array(repeating: [0.951, 0.952, 0.953, 0.950, 0.954], count: 11).flatMap { $0 }
        let check = SequentialCheck.evaluate(
            values: first + rest, lookSizes: AdaptiveSchedule(min: 5, max: 60, step: 5).looks, maximumRuns: 60, claim: claim)
        #expect(check.looks.first?.verdict == .inconclusive)
        #expect(check.verdict == .reproduced)
        #expect(check.stopReason == .decided)
        #expect(check.looks.count < 12)
        let never = SequentialCheck.evaluate(
            values: Array(repeating: [0.93, 0.95], count: 30).flatMap { $0 },
            lookSizes: AdaptiveSchedule(min: 5, max: 60, step: 5).looks, maximumRuns: 60, claim: claim)
        #expect(never.looks.count == 12)
        #expect(never.verdict == .inconclusive)
        #expect(never.stopReason == .reachedMaximum)
        #expect(AdaptiveSchedule(min: 5, max: 12, step: 5).looks == [5, 10, 12])
    }
}
