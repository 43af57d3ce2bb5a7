/// The verdict rule of statistics.md §2 at α = 0.05, for a given mean and sd as a function of the number of
/// runs, so that `runs_needed` can ask "at which n would these numbers be decisive?".
struct DecisionRule: Sendable {
    let direction: Claim.Direction
    let claimed: Double
    let tolerance: Double
    let mean: Double
    let sd: Double

    /// The verdict with n runs (n ≥ 2).
    ///
    /// - higher: reproduced when mean − t(0.95, n−1)·se ≥ c − δ; not_reproduced when mean + t(0.975, n−1)·se < c − δ.
    /// - lower: reproduced when mean + t(0.95, n−1)·se ≤ c + δ; not_reproduced when mean − t(0.975, n−1)·se > c + δ.
    /// - equal: reproduced when the 90 % interval lies inside [c − δ, c + δ]; not_reproduced when the 95 %
    ///   interval lies wholly outside it.
    func verdict(runs n: Int) -> Verdict {
        let distribution = StudentT(degreesOfFreedom: n - 1)
        let se = sd / Double(n).squareRoot()
        let oneSided = distribution.quantile(0.95) * se
        let twoSided = distribution.quantile(0.975) * se
        let lowLimit = claimed - tolerance
        let highLimit = claimed + tolerance
        switch direction {
        case .higher:
            if mean - oneSided >= lowLimit { return .reproduced }
            if mean + twoSided < lowLimit { return .notReproduced }
        case .lower:
            if mean + oneSided <= highLimit { return .reproduced }
            if mean - twoSided > highLimit { return .notReproduced }
        case .equal:
            if mean - oneSided >= lowLimit && mean + oneSided <= highLimit { return .reproduced }
            if mean + twoSided < lowLimit || mean - twoSided > highLimit { return .notReproduced }
        }
        return .inconclusive
    }

    /// The smallest n > `current` with a decisive verdict, or nil if none up to `limit`.
    ///
    /// The half-widths t·sd/√n shrink as n grows, so once decisive a verdict stays decisive: an exponential
    /// search followed by bisection needs about 2·log₂(n) verdict evaluations.
    func runsNeeded(after current: Int, limit: Int) -> Int? {
        var undecided = current
        var candidate = current + 1
        while verdict(runs: candidate) == .inconclusive {
            guard candidate < limit else { return nil }
            undecided = candidate
            candidate = Swift.min(candidate * 2, limit)
        }
        while candidate - undecided > 1 {
            let middle = undecided + (candidate - undecided) / 2
            if verdict(runs: middle) == .inconclusive { undecided = middle } else { candidate = middle }
        }
        return candidate
    }
}
