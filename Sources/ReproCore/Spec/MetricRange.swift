/// The plausible values of one metric, declared by the researcher (`metrics: {accuracy: {min: 0, max: 1}}`).
///
/// A run reporting a value outside it is a failed attempt, never an accepted run: an accuracy of 7 or a
/// loss of −1e308 says the job or the worker is broken, and one such value would dominate every
/// statistic of the report.
public struct MetricRange: Sendable, Hashable, Codable {
    /// Smallest plausible value (inclusive); nil: no lower bound.
    public var min: Double?
    /// Largest plausible value (inclusive); nil: no upper bound.
    public var max: Double?

    /// Creates a range; at least one bound should be given (the parser insists).
    public init(min: Double? = nil, max: Double? = nil) {
        self.min = min
        self.max = max
    }

    /// Whether `value` lies within the bounds.
    public func contains(_ value: Double) -> Bool {
        value.isFinite && (min.map { value >= $0 } ?? true) && (max.map { value <= $0 } ?? true)
    }

    /// "[0, 1]", "[0, ∞)", for error messages.
    public var description: String {
        let lower = min.map { "[\(Self.format($0))" } ?? "(−∞"
        let upper = max.map { "\(Self.format($0))]" } ?? "∞)"
        return "\(lower), \(upper)"
    }

    /// Why `value` of `metric` is refused, or nil when it is plausible. Shared by the coordinator (which
    /// decides) and the worker (which reports the attempt as failed before sending it).
    public static func violation(metric: String, value: Double, ranges: [String: MetricRange]?) -> String? {
        guard value.isFinite else { return "metric \(metric) is not a finite number" }
        guard let range = ranges?[metric], !range.contains(value) else { return nil }
        return "metric \(metric) = \(format(value)) is outside its declared range \(range.description) "
            + "(metrics.\(metric) in the study spec)"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
