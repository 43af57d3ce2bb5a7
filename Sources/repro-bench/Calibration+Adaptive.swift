import ReproStats

/// The adaptive design of issue 15 part 2 measured like the fixed one: the same simulated studies looked at
/// after every step with the group-sequential boundaries of ``SequentialCheck``, against the fixed design
/// that always runs `max` seeds.
extension Calibration {
    static let schedule = AdaptiveSchedule(min: 5, max: 60, step: 5)
    static let adaptiveShapes: [(ValueShape, VerdictMethod)] = [(.normal, .runsT), (.beta, .runsLogit), (.t3, .runsT)]
    static let adaptiveSDs = [0.005, 0.01, 0.02]

    /// The boundaries of the `reproduced` and `not_reproduced` tests over the planned looks, computed once.
    static let designs: (AlphaSpendingBoundaries, AlphaSpendingBoundaries) = {
        let fractions = schedule.looks.map { Double($0) / Double(schedule.max) }
        return (
            AlphaSpendingBoundaries(fractions: fractions, alpha: SequentialCheck.reproducedAlpha),
            AlphaSpendingBoundaries(fractions: fractions, alpha: SequentialCheck.notReproducedAlpha)
        )
    }()

    struct AdaptiveScenario: Sendable {
        var shape: ValueShape
        var method: VerdictMethod
        var sd: Double
        var position: TruthPosition
    }

    struct AdaptiveFigures: Sendable {
        var scenario: AdaptiveScenario
        var adaptive = VerdictCounts()
        var fixed = VerdictCounts()
        /// Studies stopped at each look.
        var stoppedAt: [Int: Int] = [:]
    }

    static func adaptiveScenarios() -> [AdaptiveScenario] {
        adaptiveShapes.flatMap { shape, method in
            adaptiveSDs.flatMap { sd in
                TruthPosition.allCases.map { AdaptiveScenario(shape: shape, method: method, sd: sd, position: $0) }
            }
        }
    }

    static func simulateAdaptive(_ scenario: AdaptiveScenario, studies: Int, seed: UInt64) -> AdaptiveFigures {
        var random = SimulationRandom(seed: seed)
        var figures = AdaptiveFigures(scenario: scenario)
        let looks = schedule.looks
        let (reproducing, refuting) = designs
        let truth = scenario.position.mean(claim: claimed, tolerance: tolerance)
        let claim = Claim(
            metric: "accuracy", dataset: "simulated", value: claimed, direction: .higher, tolerance: tolerance,
            range: scenario.method == .runsLogit ? Interval(lower: 0, upper: 1) : nil)
        var values: [Double] = []
        var seeds: [Int] = []
        for _ in 0..<studies {
            scenario.shape.draw(mean: truth, sd: scenario.sd, count: schedule.max, into: &values, seeds: &seeds, using: &random)
            let sequential = SequentialCheck.evaluate(
                values: values, sizes: looks, reproducing: reproducing, refuting: refuting, claim: claim)
            let used = sequential.looks.last?.n ?? 0
            count(sequential.verdict, runs: used, into: &figures.adaptive)
            figures.stoppedAt[used, default: 0] += 1
            let fixed = ClaimCheck.evaluate(values: values, claim: claim)
            count(fixed.verdict, runs: values.count, into: &figures.fixed)
        }
        return figures
    }

    static func count(_ verdict: Verdict, runs: Int, into counts: inout VerdictCounts) {
        switch verdict {
        case .reproduced: counts.reproduced += 1
        case .notReproduced: counts.notReproduced += 1
        default: counts.inconclusive += 1
        }
        counts.studies += 1
        counts.runs += runs
    }

    static func adaptiveTable(_ figures: [AdaptiveFigures]) -> String {
        let looks = schedule.looks
        let (reproducing, refuting) = designs
        var text = "### Adaptive design (min \(schedule.min), max \(schedule.max), step \(schedule.step); `higher`, c = \(claimed), δ = \(tolerance)) vs fixed n = \(schedule.max)\n\n"
        text += "Boundaries (z; nominal one-sided level) per look n: "
        text += zip(looks.indices, looks).map { index, n in
            "\(n): reproduced \(Format.fixed(reproducing.bounds[index], 3)) (\(String(format: "%.2e", reproducing.nominalAlpha[index]))), "
                + "not \(Format.fixed(refuting.bounds[index], 3)) (\(String(format: "%.2e", refuting.nominalAlpha[index])))"
        }.joined(separator: "; ") + "\n\n"
        text += "| shape | method | sd | truth | adaptive rep % | not % | inc % | fixed rep % | not % | inc % | mean runs adaptive | fixed | saving % |\n"
        text += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for figure in figures {
            let a = figure.adaptive
            let f = figure.fixed
            let meanA = Double(a.runs) / Double(a.studies)
            let meanF = Double(f.runs) / Double(f.studies)
            text += "| \(figure.scenario.shape.rawValue) | \(figure.scenario.method.rawValue) | \(figure.scenario.sd) | \(figure.scenario.position.rawValue) | "
            text += "\(pct(a.rate(a.reproduced))) | \(pct(a.rate(a.notReproduced))) | \(pct(a.rate(a.inconclusive))) | "
            text += "\(pct(f.rate(f.reproduced))) | \(pct(f.rate(f.notReproduced))) | \(pct(f.rate(f.inconclusive))) | "
            text += "\(Format.fixed(meanA, 1)) | \(Format.fixed(meanF, 0)) | \(Format.fixed(100 * (1 - meanA / meanF), 1)) |\n"
        }
        return text
    }
}
