#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A closed interval [lower, upper], encoded as `{"lower": …, "upper": …}`.
public struct Interval: Codable, Sendable, Hashable {
    /// Lower end.
    public let lower: Double
    /// Upper end.
    public let upper: Double

    /// The interval [lower, upper].
    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    /// upper − lower.
    public var width: Double { upper - lower }

    /// Whether `value` lies in [lower, upper].
    public func contains(_ value: Double) -> Bool {
        lower <= value && value <= upper
    }

    /// The Student-t confidence interval of a mean, mean ± t((1 + level)/2, n − 1) · sd/√n
    /// (`scipy.stats.t.interval(level, n-1, mean, se)`). Nil when n < 2, sd is negative or not finite, or the
    /// level is not in (0, 1). With sd = 0 the interval is the single point [mean, mean].
    public static func studentMean(mean: Double, sd: Double, count: Int, level: Double) -> Interval? {
        guard count >= 2 else { return nil }
        return symmetric(
            around: mean,
            scale: sd / Double(count).squareRoot(),
            degreesOfFreedom: count - 1,
            level: level
        )
    }

    /// The prediction interval for one new run, mean ± t((1 + level)/2, n − 1) · sd · √(1 + 1/n).
    /// Nil under the same conditions as ``studentMean(mean:sd:count:level:)``.
    public static func nextRun(mean: Double, sd: Double, count: Int, level: Double) -> Interval? {
        guard count >= 2 else { return nil }
        let scale = sd * (1 + 1 / Double(count)).squareRoot()
        return symmetric(around: mean, scale: scale, degreesOfFreedom: count - 1, level: level)
    }

    /// center ± t((1 + level)/2, df) · scale.
    static func symmetric(around center: Double, scale: Double, degreesOfFreedom: Int, level: Double) -> Interval? {
        guard level > 0, level < 1, scale >= 0, scale.isFinite, center.isFinite, degreesOfFreedom >= 1 else {
            return nil
        }
        let halfWidth = StudentT(degreesOfFreedom: degreesOfFreedom).quantile(0.5 + 0.5 * level) * scale
        let interval = Interval(lower: center - halfWidth, upper: center + halfWidth)
        // Near ±1e308 the bounds can overflow: no interval rather than an infinite one.
        return interval.isFinite ? interval : nil
    }

    /// Whether both bounds are finite numbers (JSON cannot carry anything else).
    public var isFinite: Bool { lower.isFinite && upper.isFinite }
}
