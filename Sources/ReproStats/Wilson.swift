/// Wilson score interval of a binomial proportion (`scipy.stats.binomtest(k, n).proportion_ci(method='wilson')`).
public enum Wilson {
    /// Φ⁻¹(0.975) = 1.959963984540054, the z of a two-sided 95 % interval (statistics.md rounds it to 1.959964).
    public static let z95 = 1.959_963_984_540_054

    /// Lower bound of the Wilson interval of successes / trials:
    /// (p̂ + z²/2n − z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), clamped to [0, 1]. Nil when trials ≤ 0 or
    /// successes is outside 0...trials. Example: 8 of 10 with z = 1.96 gives 0.490157.
    public static func lowerBound(successes: Int, trials: Int, z: Double = z95) -> Double? {
        interval(successes: successes, trials: trials, z: z)?.lower
    }

    /// The Wilson interval of successes / trials (same conditions as ``lowerBound(successes:trials:z:)``).
    public static func interval(successes: Int, trials: Int, z: Double = z95) -> Interval? {
        guard trials > 0, successes >= 0, successes <= trials, z.isFinite, z >= 0 else { return nil }
        let n = Double(trials)
        let share = Double(successes) / n
        let zSquared = z * z
        let center = share + zSquared / (2 * n)
        let halfWidth = z * (share * (1 - share) / n + zSquared / (4 * n * n)).squareRoot()
        let denominator = 1 + zSquared / n
        return Interval(
            lower: Swift.max(0, (center - halfWidth) / denominator),
            upper: Swift.min(1, (center + halfWidth) / denominator)
        )
    }
}
