/// Maps a data interval onto a pixel interval. A degenerate domain (one value, or nothing) is widened
/// so that the mapping never divides by zero and never yields NaN.
public struct LinearScale: Sendable, Equatable {
    public let domainLower: Double
    public let domainUpper: Double
    public let rangeStart: Double
    public let rangeEnd: Double

    /// A scale over `values` (non-finite ones ignored), padded by 5 % on both sides.
    public init(covering values: [Double], rangeStart: Double, rangeEnd: Double, padding: Double = 0.05) {
        var lower = Double.infinity
        var upper = -Double.infinity
        for value in values where value.isFinite {
            lower = Swift.min(lower, value)
            upper = Swift.max(upper, value)
        }
        if lower > upper {
            lower = 0
            upper = 1
        } else if lower == upper {
            let spread = Swift.abs(lower) > 0 ? Swift.abs(lower) * 0.01 : 1
            lower -= spread
            upper += spread
        } else {
            let pad = (upper - lower) * padding
            lower -= pad
            upper += pad
        }
        self.init(domain: lower...upper, rangeStart: rangeStart, rangeEnd: rangeEnd)
    }

    /// A scale over a fixed domain (non-finite or empty domains fall back to 0…1).
    public init(domain: ClosedRange<Double>, rangeStart: Double, rangeEnd: Double) {
        if domain.lowerBound.isFinite, domain.upperBound.isFinite, domain.upperBound > domain.lowerBound,
            (domain.upperBound - domain.lowerBound).isFinite
        {
            domainLower = domain.lowerBound
            domainUpper = domain.upperBound
        } else {
            domainLower = 0
            domainUpper = 1
        }
        self.rangeStart = rangeStart
        self.rangeEnd = rangeEnd
    }

    /// The pixel position of `value`, clamped to the range.
    public func callAsFunction(_ value: Double) -> Double {
        guard value.isFinite else { return rangeStart }
        let t = Swift.min(Swift.max((value - domainLower) / (domainUpper - domainLower), 0), 1)
        return rangeStart + t * (rangeEnd - rangeStart)
    }

    /// About `count` round tick values inside the domain.
    public func ticks(_ count: Int = 5) -> [Double] {
        let span = domainUpper - domainLower
        guard span > 0, span.isFinite, count > 0 else { return [] }
        let rough = span / Double(count)
        var step = 1.0
        while step > rough { step /= 10 }
        while step * 10 <= rough { step *= 10 }
        if step * 5 <= rough { step *= 5 } else if step * 2 <= rough { step *= 2 }
        var ticks: [Double] = []
        var tick = (domainLower / step).rounded(.up) * step
        while tick <= domainUpper + step * 1e-9 && ticks.count < 50 {
            ticks.append(Swift.abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }
}
