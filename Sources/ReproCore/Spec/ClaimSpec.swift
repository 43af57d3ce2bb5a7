/// A number the preprint reports, which the study checks.
public struct ClaimSpec: Sendable, Hashable, Codable {
    /// Metric name as the training script reports it, such as `accuracy`.
    public var metric: String
    /// Dataset the number was reported on; one of the matrix's datasets.
    public var dataset: String
    /// The reported value.
    public var value: Double
    /// Which side of `value` counts as holding up.
    public var direction: ClaimDirection
    /// Allowed shortfall; nil means the statistics' default (2 % of |value|).
    public var tolerance: Double?
    /// Configuration the number was reported for, when the matrix has several.
    public var configuration: String?

    /// Creates a claim.
    public init(
        metric: String, dataset: String, value: Double, direction: ClaimDirection, tolerance: Double? = nil,
        configuration: String? = nil
    ) {
        self.metric = metric
        self.dataset = dataset
        self.value = value
        self.direction = direction
        self.tolerance = tolerance
        self.configuration = configuration
    }
}

/// Which results support a claim.
public enum ClaimDirection: String, Sendable, Hashable, Codable, CaseIterable {
    /// The claim holds when results reach at least the value (accuracy, F1).
    case higher
    /// The claim holds when results stay at most at the value (loss, error rate).
    case lower
    /// The claim holds when results are within tolerance of the value.
    case equal
}
