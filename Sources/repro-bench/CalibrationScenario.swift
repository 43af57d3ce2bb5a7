import ReproStats

/// How the per-seed values of a simulated study are drawn. Every shape has the stated true mean and sd, so
/// the truth a verdict should find is known.
enum ValueShape: String, CaseIterable, Sendable {
    /// Normal(μ, sd).
    case normal
    /// Beta with mean μ and sd (an accuracy near 1: bounded, skewed left), values in [0, 1].
    case beta
    /// μ + sd · T₃/√3: Student t with 3 degrees of freedom, heavy tails, scaled to the same sd.
    case t3
    /// Seeds with 2 replicas each: a seed effect and a repeat effect, each half of the variance (ICC 0.5);
    /// n counts runs, so n runs are ⌈n/2⌉ seeds.
    case replicas

    /// Draws the n run values of one study; for `replicas`, `seeds` receives each run's seed.
    func draw(mean: Double, sd: Double, count: Int, into values: inout [Double], seeds: inout [Int],
        using random: inout SimulationRandom) {
        values.removeAll(keepingCapacity: true)
        seeds.removeAll(keepingCapacity: true)
        switch self {
        case .normal:
            for index in 0..<count {
                values.append(mean + sd * random.normal())
                seeds.append(index)
            }
        case .beta:
            let (a, b) = Self.betaShape(mean: mean, sd: sd)
            for index in 0..<count {
                values.append(random.beta(a, b))
                seeds.append(index)
            }
        case .t3:
            let scale = sd / 3.0.squareRoot()
            for index in 0..<count {
                values.append(mean + scale * random.studentT3())
                seeds.append(index)
            }
        case .replicas:
            let part = sd * 0.5.squareRoot()
            var seed = 0
            while values.count < count {
                let effect = mean + part * random.normal()
                for _ in 0..<2 where values.count < count {
                    values.append(effect + part * random.normal())
                    seeds.append(seed)
                }
                seed += 1
            }
        }
    }

    /// Beta(a, b) with the given mean and sd: a + b = μ(1 − μ)/sd² − 1.
    static func betaShape(mean: Double, sd: Double) -> (Double, Double) {
        let total = mean * (1 - mean) / (sd * sd) - 1
        return (mean * total, (1 - mean) * total)
    }
}

/// How a simulated study's verdict is computed: what the report would do under each candidate method.
enum VerdictMethod: String, Sendable {
    /// Every run counted as an independent value, t intervals (the method before issue 15).
    case runsT = "runs, t"
    /// Every run counted, intervals on the logit scale of the declared range [0, 1].
    case runsLogit = "runs, logit"
    /// Replicas of a seed averaged first, t intervals on the seed means.
    case seedMeansT = "seed means, t"
}

/// Where the true mean lies relative to the claim (claim c, tolerance δ).
enum TruthPosition: String, CaseIterable, Sendable {
    /// μ = c.
    case atClaim = "at claim"
    /// μ halfway between the claim and the edge of its tolerance, on the side a failed reproduction lies.
    case inside = "inside (δ/2)"
    /// μ exactly at the edge of the tolerance: the claim is (just) true; a `reproduced` here is the limit
    /// of the false-reproduced rate for claims off by more than δ.
    case boundary = "boundary (δ)"
    /// μ off by 2δ: the claim is false.
    case outside = "outside (2δ)"

    /// The true mean for a claim c with tolerance δ, below c for every direction (a shortfall is the failure of
    /// a `higher` claim, and for an `equal` claim below is as wrong as above while keeping a beta's mean off 1).
    func mean(claim: Double, tolerance: Double) -> Double {
        switch self {
        case .atClaim: return claim
        case .inside: return claim - tolerance / 2
        case .boundary: return claim - tolerance
        case .outside: return claim - 2 * tolerance
        }
    }

    /// Whether the claim is true (within its tolerance).
    var claimIsTrue: Bool { self != .outside }
}

/// One cell of the calibration: a shape, an sd, an n, a claim direction, a truth and a verdict method.
struct CalibrationScenario: Sendable {
    var shape: ValueShape
    var sd: Double
    var count: Int
    var direction: Claim.Direction
    var position: TruthPosition
    var method: VerdictMethod
    var claimed: Double
    var tolerance: Double

    var trueMean: Double { position.mean(claim: claimed, tolerance: tolerance) }

    var claim: Claim {
        Claim(
            metric: "accuracy", dataset: "simulated", value: claimed, direction: direction, tolerance: tolerance,
            range: method == .runsLogit ? Interval(lower: 0, upper: 1) : nil)
    }
}

/// Counts of one scenario's simulated verdicts.
struct VerdictCounts: Sendable {
    var reproduced = 0
    var notReproduced = 0
    var inconclusive = 0
    var studies = 0
    /// Total runs used (the fixed design always uses n per study).
    var runs = 0

    func rate(_ count: Int) -> Double { 100 * Double(count) / Double(Swift.max(studies, 1)) }
}

/// Coverage counts of one (shape, sd, n) cell.
struct CoverageCounts: Sendable {
    var studies = 0
    var tCovered = 0
    var bcaCovered = 0
    var bcaComputed = 0
    var logitCovered = 0
    var logitComputed = 0
    var tWidth = 0.0
    var logitAbove1 = 0
    var tAbove1 = 0
}
