/// Bayesian (damped) average rating: v/(v+m)·R + m/(v+m)·C, which pulls preprints with few ratings towards
/// the mean over all preprints so that one 5-star rating does not outrank fifty 4.5-star ones.
public enum BayesianAverage {
    /// Default prior weight m (statistics.md §5): the global mean counts as 5 ratings.
    public static let defaultPriorWeight = 5.0

    /// v/(v+m)·R + m/(v+m)·C.
    /// - Parameters:
    ///   - mean: R, the preprint's own mean rating (ignored when `count` is 0).
    ///   - count: v, the number of ratings.
    ///   - priorMean: C, the mean rating over all preprints.
    ///   - priorWeight: m (default 5).
    /// - Returns: nil when v + m ≤ 0 or an input is not finite. Example: R = 4.5, v = 4, m = 10, C = 3.6 → 3.857143.
    public static func value(mean: Double, count: Int, priorMean: Double, priorWeight: Double = defaultPriorWeight)
        -> Double?
    {
        let v = Double(Swift.max(count, 0))
        let total = v + priorWeight
        guard total > 0, priorMean.isFinite, priorWeight.isFinite, v == 0 || mean.isFinite else { return nil }
        let own = v == 0 ? 0 : v / total * mean
        return own + priorWeight / total * priorMean
    }
}
