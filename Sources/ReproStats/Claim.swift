/// A claim of a preprint, `{metric, dataset, value c, direction, tolerance δ}`: statistics.md §2.
public struct Claim: Codable, Sendable, Hashable {
    /// Which way a claimed value is meant.
    public enum Direction: String, Codable, Sendable, Hashable, CaseIterable {
        /// Higher is better (accuracy, F1): reproduced when the runs are at least c − δ.
        case higher
        /// Lower is better (loss, error): reproduced when the runs are at most c + δ.
        case lower
        /// The value should match both ways: reproduced when the runs lie within c ± δ.
        case equal
    }

    /// Share of |c| used as tolerance when the study spec gives none: 2 %.
    public static let defaultRelativeTolerance = 0.02

    /// Metric name, e.g. "accuracy".
    public var metric: String
    /// Dataset name.
    public var dataset: String
    /// The claimed value c.
    public var value: Double
    /// Direction of the claim.
    public var direction: Direction
    /// The margin δ from the study spec; nil means the default, 2 % of |c|.
    public var tolerance: Double?
    /// The metric's declared range when it is bounded on both sides (`metrics: {accuracy: {min: 0, max: 1}}`):
    /// the verdict's intervals are then computed on the logit scale of that range (``Interval/logitMean(mean:sd:count:level:lowerBound:upperBound:)``)
    /// and never leave it. Nil: the plain t intervals.
    public var range: Interval?

    /// A claim; `tolerance` nil means 2 % of |value|; `range` the metric's declared [min, max], if both are given.
    public init(
        metric: String, dataset: String, value: Double, direction: Direction, tolerance: Double? = nil,
        range: Interval? = nil
    ) {
        self.metric = metric
        self.dataset = dataset
        self.value = value
        self.direction = direction
        self.tolerance = tolerance
        self.range = range
    }

    /// δ actually used: the given tolerance (its magnitude), or 2 % of |c| when none was given.
    public var effectiveTolerance: Double {
        tolerance.map(abs) ?? Self.defaultRelativeTolerance * abs(value)
    }
}
