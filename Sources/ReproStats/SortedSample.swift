/// Order statistics of a sample sorted ascending: median, trimmed mean, median absolute deviation.
struct SortedSample: Sendable {
    /// The values in ascending order.
    let values: [Double]

    /// Sorts `values` (which must be finite).
    init(_ values: [Double]) {
        self.values = values.sorted()
    }

    var count: Int { values.count }

    /// `numpy.median`: the middle value, or the mean of the two middle values for even n.
    var median: Double? {
        Self.median(ofSorted: values)
    }

    /// `scipy.stats.trim_mean(x, proportion)`: drops ⌊proportion · n⌋ values at each end, averages the rest.
    func trimmedMean(proportion: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let cut = Int(proportion * Double(count))
        let kept = values[cut..<(count - cut)]
        guard !kept.isEmpty else { return nil }
        return kept.withContiguousStorageIfAvailable { SampleMoments($0).mean } ?? SampleMoments(Array(kept)).mean
    }

    /// Raw median absolute deviation, median(|x − median|) (`scipy.stats.median_abs_deviation`, scale 1).
    var medianAbsoluteDeviation: Double? {
        guard let center = median else { return nil }
        let deviations = values.map { abs($0 - center) }.sorted()
        return Self.median(ofSorted: deviations)
    }

    static func median(ofSorted sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        if sorted.count % 2 == 1 { return sorted[middle] }
        let sum = sorted[middle - 1] + sorted[middle]
        return sum.isFinite ? sum / 2 : sorted[middle - 1] / 2 + sorted[middle] / 2
    }
}
