import Dispatch
import Foundation
import ReproStats
import Synchronization

/// The calibration of issue 15: studies simulated with a known true mean, judged by the report's own functions
/// (``ClaimCheck``, ``Holm``, ``SequentialCheck``, ``Interval``, ``Bootstrap``), counted per scenario. Pure and
/// deterministic for a seed: every scenario draws from its own generator, whatever thread runs it.
struct Calibration: Sendable {
    /// Simulated studies per scenario.
    var studies: Int
    var seed: UInt64
    /// The bootstrap settings of reports, or nil to skip the BCa coverage.
    var bootstrap: BootstrapOptions?

    static let claimed = 0.95
    static let tolerance = 0.01
    static let sds = [0.002, 0.01, 0.05]
    static let counts = [5, 10, 20, 50]
    static let holmClaims = 5
    /// `higher` only: an `equal` claim's `reproduced` is the same one-sided test on each side, and on two
    /// shared cores the second direction would double the run time.
    static let directions: [Claim.Direction] = [.higher]

    func run() -> (summary: String, full: String) {
        let start = ContinuousClock.now
        let scenarios = Self.verdictScenarios()
        let (studies, seed) = (self.studies, self.seed)
        let verdicts = Self.parallel(scenarios.count) { index in
            Self.simulate(scenarios[index], studies: studies, seed: seed &+ UInt64(index) &* 0x1_0000)
        }
        let coverageCells = Self.coverageCells()
        let bootstrap = self.bootstrap
        let coverage = Self.parallel(coverageCells.count) { index in
            let cell = coverageCells[index]
            return Self.coverage(
                shape: cell.shape, sd: cell.sd, count: cell.count, studies: studies, bootstrap: bootstrap,
                seed: seed &+ 0x5_0000_0000 &+ UInt64(index) &* 0x1_0000)
        }
        let holm = Self.parallel(Self.holmCells.count) { index in
            Self.holmFamily(Self.holmCells[index], studies: studies, seed: seed &+ 0x9_0000_0000 &+ UInt64(index))
        }
        let adaptiveScenarios = Self.adaptiveScenarios()
        let adaptive = Self.parallel(adaptiveScenarios.count) { index in
            Self.simulateAdaptive(adaptiveScenarios[index], studies: studies, seed: seed &+ 0xD_0000_0000 &+ UInt64(index) &* 0x1_0000)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18

        var out = ""
        out += "studies per scenario: \(studies), seed \(seed), \(scenarios.count) verdict scenarios, "
        out += "\(coverageCells.count) coverage cells, \(adaptiveScenarios.count) adaptive scenarios, "
        out += "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(Format.fixed(seconds, 1)) s\n\n"
        out += Self.summaryTable(scenarios, verdicts)
        out += "\n" + Self.coverageTable(coverageCells, coverage, bootstrap: bootstrap != nil)
        out += "\n" + Self.holmTable(holm)
        out += "\n" + Self.adaptiveTable(adaptive)
        return (out, Self.fullTable(scenarios, verdicts))
    }

    // MARK: - Scenarios

    static func methods(for shape: ValueShape) -> [VerdictMethod] {
        switch shape {
        case .normal, .t3: return [.runsT]
        case .beta: return [.runsT, .runsLogit]
        case .replicas: return [.runsT, .seedMeansT]
        }
    }

    static func verdictScenarios() -> [CalibrationScenario] {
        var result: [CalibrationScenario] = []
        for shape in ValueShape.allCases {
            for method in methods(for: shape) {
                for direction in directions {
                    for sd in sds {
                        for count in counts {
                            for position in TruthPosition.allCases {
                                result.append(
                                    CalibrationScenario(
                                        shape: shape, sd: sd, count: count, direction: direction, position: position,
                                        method: method, claimed: claimed, tolerance: tolerance))
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The values a verdict method is given: every run, or the mean of each seed's replicas.
    static func verdictValues(_ values: [Double], seeds: [Int], method: VerdictMethod) -> [Double] {
        guard method == .seedMeansT else { return values }
        var sums: [Int: (Double, Int)] = [:]
        for (value, seed) in zip(values, seeds) {
            let entry = sums[seed] ?? (0, 0)
            sums[seed] = (entry.0 + value, entry.1 + 1)
        }
        return sums.keys.sorted().map { sums[$0]!.0 / Double(sums[$0]!.1) }
    }

    static func simulate(_ scenario: CalibrationScenario, studies: Int, seed: UInt64) -> VerdictCounts {
        var random = SimulationRandom(seed: seed)
        var counts = VerdictCounts()
        var values: [Double] = []
        var seeds: [Int] = []
        let claim = scenario.claim
        for _ in 0..<studies {
            scenario.shape.draw(
                mean: scenario.trueMean, sd: scenario.sd, count: scenario.count, into: &values, seeds: &seeds,
                using: &random)
            let input = verdictValues(values, seeds: seeds, method: scenario.method)
            // nMin 2: a replicas study of 5 runs has 3 seed means, which the report would still judge.
            let check = ClaimCheck.evaluate(values: input, claim: claim, nMin: 2)
            switch check.verdict {
            case .reproduced: counts.reproduced += 1
            case .notReproduced: counts.notReproduced += 1
            default: counts.inconclusive += 1
            }
            counts.studies += 1
            counts.runs += values.count
        }
        return counts
    }

    struct CoverageCell: Sendable {
        var shape: ValueShape
        var sd: Double
        var count: Int
    }

    /// Normal, t₃ and replicas are location-scale families: coverage does not depend on sd, so one sd is
    /// enough; the beta's shape changes with sd near 1, so it gets every sd.
    static func coverageCells() -> [CoverageCell] {
        ValueShape.allCases.flatMap { shape in
            (shape == .beta ? sds : [0.01]).flatMap { sd in counts.map { CoverageCell(shape: shape, sd: sd, count: $0) } }
        }
    }

    /// Coverage of the true mean by the report's intervals, at μ = c.
    static func coverage(shape: ValueShape, sd: Double, count: Int, studies: Int, bootstrap: BootstrapOptions?, seed: UInt64)
        -> CoverageCounts
    {
        var random = SimulationRandom(seed: seed)
        var result = CoverageCounts()
        var values: [Double] = []
        var seeds: [Int] = []
        let truth = claimed
        for _ in 0..<studies {
            shape.draw(mean: truth, sd: sd, count: count, into: &values, seeds: &seeds, using: &random)
            let input = shape == .replicas ? verdictValues(values, seeds: seeds, method: .seedMeansT) : values
            let mean = input.reduce(0, +) / Double(input.count)
            let sampleSD = (input.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(input.count - 1)).squareRoot()
            result.studies += 1
            // The report's t interval is over every run; for replicas the seed-means one is counted as logit.
            let runMean = values.reduce(0, +) / Double(values.count)
            let runSD = (values.reduce(0) { $0 + ($1 - runMean) * ($1 - runMean) } / Double(values.count - 1)).squareRoot()
            if let t = Interval.studentMean(mean: runMean, sd: runSD, count: values.count, level: 0.95) {
                if t.contains(truth) { result.tCovered += 1 }
                if t.upper > 1 { result.tAbove1 += 1 }
                result.tWidth += t.width
            }
            if shape == .beta {
                if let logit = Interval.logitMean(mean: mean, sd: sampleSD, count: count, level: 0.95, lowerBound: 0, upperBound: 1) {
                    result.logitComputed += 1
                    if logit.contains(truth) { result.logitCovered += 1 }
                    if logit.upper > 1 || logit.lower < 0 { result.logitAbove1 += 1 }
                }
            } else if shape == .replicas,
                let seedT = Interval.studentMean(mean: mean, sd: sampleSD, count: input.count, level: 0.95)
            {
                result.logitComputed += 1
                if seedT.contains(truth) { result.logitCovered += 1 }
            }
            if let bootstrap, count >= Summary.bootstrapMinimumCount,
                let bca = Bootstrap.bcaMeanInterval(of: values, options: bootstrap)
            {
                result.bcaComputed += 1
                if bca.contains(truth) { result.bcaCovered += 1 }
            }
        }
        return result
    }

    // MARK: - Multiplicity

    struct HolmCell: Sendable {
        var label: String
        var position: TruthPosition
        var count: Int
        var sd: Double
    }

    static let holmCells = [
        HolmCell(label: "5 true claims at c", position: .atClaim, count: 10, sd: 0.01),
        HolmCell(label: "5 claims at the boundary c − δ", position: .boundary, count: 10, sd: 0.01),
        HolmCell(label: "5 claims at the boundary c − δ", position: .boundary, count: 50, sd: 0.02),
        HolmCell(label: "5 false claims at c − 2δ", position: .outside, count: 10, sd: 0.01),
        HolmCell(label: "5 false claims at c − 2δ", position: .outside, count: 20, sd: 0.02),
    ]

    struct HolmFigures: Sendable {
        var cell: HolmCell
        var studies = 0
        /// Studies with at least one wrong verdict, per claim / Holm.
        var familyErrorsPerClaim = 0
        var familyErrorsHolm = 0
        /// Decided claims in all.
        var decidedPerClaim = 0
        var decidedHolm = 0
        var scorePerClaim = 0.0
        var scoreHolm = 0.0
        var scoredPerClaim = 0
        var scoredHolm = 0
    }

    /// A study of 5 independent claims (normal values, `higher`): how often at least one is wrongly decided
    /// (a `not_reproduced` for a true claim, a `reproduced` at or beyond the boundary), per claim vs Holm.
    static func holmFamily(_ cell: HolmCell, studies: Int, seed: UInt64) -> HolmFigures {
        var random = SimulationRandom(seed: seed)
        var figures = HolmFigures(cell: cell)
        var values: [Double] = []
        var seeds: [Int] = []
        let claim = Claim(metric: "accuracy", dataset: "d", value: claimed, direction: .higher, tolerance: tolerance)
        let truth = cell.position.mean(claim: claimed, tolerance: tolerance)
        let wrong: Verdict = cell.position == .atClaim ? .notReproduced : .reproduced
        for _ in 0..<studies {
            var checks: [ClaimCheck] = []
            for _ in 0..<holmClaims {
                ValueShape.normal.draw(mean: truth, sd: cell.sd, count: cell.count, into: &values, seeds: &seeds, using: &random)
                checks.append(ClaimCheck.evaluate(values: values, claim: claim))
            }
            let perClaim = checks.map(\.verdict)
            let holm = Holm.verdicts(checks)
            figures.studies += 1
            if perClaim.contains(wrong) { figures.familyErrorsPerClaim += 1 }
            if holm.contains(wrong) { figures.familyErrorsHolm += 1 }
            figures.decidedPerClaim += perClaim.count(where: \.isDecided)
            figures.decidedHolm += holm.count(where: \.isDecided)
            let a = ReproducibilityScore(verdicts: perClaim, runs: 0)
            let b = ReproducibilityScore(verdicts: holm, runs: 0)
            if let score = a.score { figures.scorePerClaim += score; figures.scoredPerClaim += 1 }
            if let score = b.score { figures.scoreHolm += score; figures.scoredHolm += 1 }
        }
        return figures
    }

    // MARK: - Output

    static func pct(_ value: Double) -> String { Format.fixed(value, 2) }

    static func fullTable(_ scenarios: [CalibrationScenario], _ counts: [VerdictCounts]) -> String {
        var text = "| shape | method | direction | sd | n | truth | reproduced % | not reproduced % | inconclusive % |\n"
        text += "|---|---|---|---|---|---|---|---|---|\n"
        for (scenario, count) in zip(scenarios, counts) {
            text += "| \(scenario.shape.rawValue) | \(scenario.method.rawValue) | \(scenario.direction.rawValue) | "
            text += "\(scenario.sd) | \(scenario.count) | \(scenario.position.rawValue) | \(pct(count.rate(count.reproduced))) | "
            text += "\(pct(count.rate(count.notReproduced))) | \(pct(count.rate(count.inconclusive))) |\n"
        }
        return text
    }

    /// Per (shape, method, direction): the worst false rates over sd and n, and where they occur.
    static func summaryTable(_ scenarios: [CalibrationScenario], _ counts: [VerdictCounts]) -> String {
        var text = "### Worst error rates over sd ∈ \(sds) and n ∈ \(Self.counts)\n\n"
        text += "false not reproduced: `not_reproduced` for a true claim (truth at c, δ/2 or δ); "
        text += "false reproduced: `reproduced` with the truth at the boundary c − δ (the limit for claims off by "
        text += "just over δ) or at c − 2δ.\n\n"
        text += "| shape | method | direction | max false not reproduced % (where) | max false reproduced at boundary % (where) | max false reproduced at 2δ % | meets ≤ 5 %? |\n"
        text += "|---|---|---|---|---|---|---|\n"
        var groups: [String: [(CalibrationScenario, VerdictCounts)]] = [:]
        var order: [String] = []
        for (scenario, count) in zip(scenarios, counts) {
            let key = "\(scenario.shape.rawValue) | \(scenario.method.rawValue) | \(scenario.direction.rawValue)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((scenario, count))
        }
        for key in order {
            let rows = groups[key]!
            let falseNot = rows.filter { $0.0.position.claimIsTrue }.max { $0.1.rate($0.1.notReproduced) < $1.1.rate($1.1.notReproduced) }!
            let boundary = rows.filter { $0.0.position == .boundary }.max { $0.1.rate($0.1.reproduced) < $1.1.rate($1.1.reproduced) }!
            let outside = rows.filter { $0.0.position == .outside }.max { $0.1.rate($0.1.reproduced) < $1.1.rate($1.1.reproduced) }!
            let worst = [falseNot.1.rate(falseNot.1.notReproduced), boundary.1.rate(boundary.1.reproduced), outside.1.rate(outside.1.reproduced)]
            // A rate within 1.96 Monte-Carlo standard errors of 5 % is not distinguishable from it.
            let limit = 5 + 196 * (0.05 * 0.95 / Double(falseNot.1.studies)).squareRoot()
            let verdict = worst.allSatisfy { $0 <= 5 } ? "yes" : (worst.allSatisfy { $0 <= limit } ? "within MC error" : "**no**")
            text += "| \(key) | \(pct(worst[0])) (sd \(falseNot.0.sd), n \(falseNot.0.count), \(falseNot.0.position.rawValue)) | "
            text += "\(pct(worst[1])) (sd \(boundary.0.sd), n \(boundary.0.count)) | \(pct(worst[2])) | \(verdict) |\n"
        }
        return text
    }

    static func coverageTable(_ cells: [CoverageCell], _ results: [CoverageCounts], bootstrap: Bool) -> String {
        var text = "### Coverage of the true mean by 95 % intervals (truth at c = \(claimed))\n\n"
        text += "t: the report's t interval over every run; BCa: the report's bootstrap (9 999 resamples, n ≥ 10); "
        text += "logit/seed: the logit-scale interval (beta) or the t interval of seed means (replicas); "
        text += "t > 1: share of t intervals reaching above 1.\n\n"
        text += "| shape | sd | n | t % | BCa % | logit/seed % | t > 1 % | in goal (n ≥ 10)? |\n|---|---|---|---|---|---|---|---|\n"
        for (cell, result) in zip(cells, results) {
            let t = 100 * Double(result.tCovered) / Double(result.studies)
            let bca = result.bcaComputed > 0 ? 100 * Double(result.bcaCovered) / Double(result.bcaComputed) : nil
            let alternative = result.logitComputed > 0 ? 100 * Double(result.logitCovered) / Double(result.logitComputed) : nil
            var goal = "—"
            if cell.count >= 10 {
                func ok(_ value: Double?) -> String { value.map { (93.5...96.5).contains($0) ? "yes" : "no" } ?? "–" }
                goal = "t \(ok(t)), BCa \(ok(bca))" + (alternative != nil ? ", alt \(ok(alternative))" : "")
            }
            text += "| \(cell.shape.rawValue) | \(cell.sd) | \(cell.count) | \(pct(t)) | \(bca.map(pct) ?? "–") | "
            text += "\(alternative.map(pct) ?? "–") | \(pct(100 * Double(result.tAbove1) / Double(result.studies))) | \(goal) |\n"
        }
        return text
    }

    static func holmTable(_ figures: [HolmFigures]) -> String {
        var text = "### Multiplicity: studies of \(holmClaims) claims (normal, higher)\n\n"
        text += "family error: share of studies with at least one wrong verdict (not_reproduced for true claims, "
        text += "reproduced at or beyond the boundary); decided: mean decided claims per study; score: mean "
        text += "reproducibility score of the scored studies.\n\n"
        text += "| claims | n | sd | family error per claim % | family error Holm % | decided per claim | decided Holm | score per claim | score Holm |\n"
        text += "|---|---|---|---|---|---|---|---|---|\n"
        for figure in figures {
            let studies = Double(figure.studies)
            text += "| \(figure.cell.label) | \(figure.cell.count) | \(figure.cell.sd) | "
            text += "\(pct(100 * Double(figure.familyErrorsPerClaim) / studies)) | \(pct(100 * Double(figure.familyErrorsHolm) / studies)) | "
            text += "\(Format.fixed(Double(figure.decidedPerClaim) / studies, 2)) | \(Format.fixed(Double(figure.decidedHolm) / studies, 2)) | "
            text += "\(figure.scoredPerClaim > 0 ? Format.fixed(figure.scorePerClaim / Double(figure.scoredPerClaim), 1) : "–") | "
            text += "\(figure.scoredHolm > 0 ? Format.fixed(figure.scoreHolm / Double(figure.scoredHolm), 1) : "–") |\n"
        }
        return text
    }

    /// Runs `work` for 0..<count on every core; results in index order (each index written once).
    static func parallel<T: Sendable>(_ count: Int, _ work: @Sendable (Int) -> T) -> [T] {
        let slots = Mutex<[T?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let value = work(index)
            slots.withLock { $0[index] = value }
        }
        return slots.withLock { $0.map { $0! } }
    }
}
