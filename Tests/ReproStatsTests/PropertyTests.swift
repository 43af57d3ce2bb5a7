import Testing

@testable import ReproStats

@Suite("Properties of intervals and verdicts")
struct PropertyTests {
    @Test("the t interval, prediction interval and BCa interval contain the mean", arguments: [2, 3, 5, 10, 31, 200])
    func intervalsContainMean(n: Int) throws {
        var data = TestData(seed: UInt64(n))
        for _ in 0..<5 {
            let summary = Summary(values: data.normal(n, mean: 0.8, sd: 0.02))
            let mean = try #require(summary.mean)
            #expect(try #require(summary.ci95Mean).contains(mean))
            #expect(try #require(summary.pi95NextRun).contains(mean))
            #expect(try #require(summary.pi95NextRun).width > (try #require(summary.ci95Mean)).width)
            if n >= Summary.bootstrapMinimumCount {
                #expect(try #require(summary.ci95Bootstrap).contains(mean))
            }
        }
    }

    @Test("intervals widen with the confidence level")
    func widenWithLevel() throws {
        let levels = [0.5, 0.8, 0.9, 0.95, 0.99, 0.999]
        for n in [2, 5, 30, 1000] {
            let widths = levels.compactMap { Interval.studentMean(mean: 1, sd: 0.1, count: n, level: $0)?.width }
            #expect(widths.count == levels.count)
            #expect(zip(widths, widths.dropFirst()).allSatisfy { $0 < $1 }, "n = \(n): \(widths)")
        }
        var data = TestData(seed: 7)
        let values = data.normal(40, mean: 0.9, sd: 0.01)
        let boot = try [0.8, 0.9, 0.95, 0.99].map {
            try #require(Bootstrap.bcaMeanInterval(of: values, options: BootstrapOptions(confidenceLevel: $0)))
        }
        for (inner, outer) in zip(boot, boot.dropFirst()) {
            #expect(outer.lower <= inner.lower && inner.upper <= outer.upper, "\(inner) ⊂ \(outer)")
        }
    }

    @Test("intervals shrink with n at the same sd")
    func shrinkWithN() {
        let counts = [2, 3, 4, 5, 8, 10, 20, 50, 100, 1000, 100_000]
        let widths = counts.compactMap { Interval.studentMean(mean: 0, sd: 1, count: $0, level: 0.95)?.width }
        #expect(zip(widths, widths.dropFirst()).allSatisfy { $0 > $1 }, "\(widths)")
        var data = TestData(seed: 11)
        let summaries = [5, 10, 40, 160].map {
            Summary(values: TestData.standardized(data.normal($0), mean: 3, sd: 0.5))
        }
        let ciWidths = summaries.compactMap { $0.ci95Mean?.width }
        let bootWidths = summaries.compactMap { $0.ci95Bootstrap?.width }
        #expect(zip(ciWidths, ciWidths.dropFirst()).allSatisfy { $0 > $1 }, "\(ciWidths)")
        #expect(zip(bootWidths, bootWidths.dropFirst()).allSatisfy { $0 > $1 }, "\(bootWidths)")
    }

    /// not_reproduced < inconclusive < reproduced.
    static func rank(_ verdict: Verdict) -> Int {
        switch verdict {
        case .notReproduced: 0
        case .inconclusive: 1
        case .reproduced: 2
        case .insufficientRuns: -1
        }
    }

    @Test("a larger tolerance never makes a verdict worse", arguments: Claim.Direction.allCases)
    func monotoneInTolerance(direction: Claim.Direction) {
        var data = TestData(seed: 99)
        var seen: Set<Verdict> = []
        for trial in 0..<60 {
            let n = 5 + trial % 20
            let values = data.normal(n, mean: 0.9, sd: 0.01)
            let claimed = 0.9 + (data.uniform() - 0.5) * 0.04
            var previous = -1
            for step in 0...40 {
                let tolerance = Double(step) * 0.0005
                let claim = Claim(metric: "m", dataset: "d", value: claimed, direction: direction, tolerance: tolerance)
                let verdict = ClaimCheck.evaluate(values: values, claim: claim).verdict
                seen.insert(verdict)
                #expect(Self.rank(verdict) >= previous, "trial \(trial), δ = \(tolerance): \(verdict)")
                previous = Self.rank(verdict)
            }
        }
        #expect(seen == [.reproduced, .notReproduced, .inconclusive], "all verdicts exercised: \(seen)")
    }

    @Test("runs_needed is the first decisive n: decisive there, inconclusive one run earlier")
    func runsNeededIsMinimal() throws {
        var data = TestData(seed: 5)
        var checked = 0
        for trial in 0..<200 where checked < 25 {
            let values = data.normal(6 + trial % 10, mean: 0.9, sd: 0.01)
            let direction = Claim.Direction.allCases[trial % 3]
            let claim = Claim(
                metric: "m",
                dataset: "d",
                value: 0.9 + (data.uniform() - 0.5) * 0.02,
                direction: direction,
                tolerance: 0.004
            )
            let check = ClaimCheck.evaluate(values: values, claim: claim)
            guard check.verdict == .inconclusive, let needed = check.runsNeeded else { continue }
            let rule = DecisionRule(
                direction: direction,
                claimed: claim.value,
                tolerance: 0.004,
                mean: try #require(check.mean),
                sd: try #require(check.sd)
            )
            #expect(rule.verdict(runs: needed) != .inconclusive)
            #expect(rule.verdict(runs: needed - 1) == .inconclusive)
            checked += 1
        }
        #expect(checked >= 10)
    }

    @Test("the bootstrap is deterministic per seed and varies across seeds")
    func bootstrapSeeds() throws {
        var data = TestData(seed: 3)
        let values = data.normal(50)
        let first = try #require(Bootstrap.bcaMeanInterval(of: values, options: BootstrapOptions(seed: 1)))
        let again = try #require(Bootstrap.bcaMeanInterval(of: values, options: BootstrapOptions(seed: 1)))
        let other = try #require(Bootstrap.bcaMeanInterval(of: values, options: BootstrapOptions(seed: 2)))
        #expect(first == again)
        #expect(first != other)
        #expect(abs(first.lower - other.lower) < 0.1 * first.width)
    }

    @Test("the optional work cap lowers the resample count only for large n, and the interval barely moves")
    func bootstrapCap() throws {
        let capped = BootstrapOptions(maxDraws: 20_000_000)
        #expect(BootstrapOptions.standard.resamples(forCount: 100_000) == 9_999)
        #expect(capped.resamples(forCount: 2_000) == 9_999)
        #expect(capped.resamples(forCount: 10_000) == 2_000)
        #expect(capped.resamples(forCount: 100_000) == BootstrapOptions.minimumCappedResamples)
        var data = TestData(seed: 21)
        let values = data.normal(10_000, mean: 0.8, sd: 0.05)
        let full = try #require(Bootstrap.bcaMeanInterval(of: values, options: BootstrapOptions(resamples: 4_000)))
        let cheap = try #require(Bootstrap.bcaMeanInterval(of: values, options: capped))
        let se = 0.05 / 100.0
        #expect(abs(full.lower - cheap.lower) < 0.3 * se && abs(full.upper - cheap.upper) < 0.3 * se)
    }
}
