/// Latencies of one kind of request, kept whole and sorted once: at most a few tens of thousands of
/// samples per run, so an exact percentile is cheaper than a histogram dependency.
struct LatencyDistribution: Sendable {
    private let sortedMilliseconds: [Double]

    /// Collects the samples.
    init(_ samples: [Duration]) {
        sortedMilliseconds = samples.map(\.milliseconds).sorted()
    }

    /// The samples of several runs as one distribution (`repro-bench lease --rounds`).
    init(merging parts: [LatencyDistribution]) {
        sortedMilliseconds = parts.flatMap(\.sortedMilliseconds).sorted()
    }

    var count: Int { sortedMilliseconds.count }

    /// Nearest-rank percentile (p in 0...100) in milliseconds; nil without samples.
    func percentile(_ p: Double) -> Double? {
        guard !sortedMilliseconds.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sortedMilliseconds.count)).rounded(.up))
        return sortedMilliseconds[min(max(rank, 1), sortedMilliseconds.count) - 1]
    }

    /// "p50 1.23 ms, p99 4.56 ms (n = 2000)".
    var summary: String {
        guard let p50 = percentile(50), let p99 = percentile(99) else { return "no samples" }
        return "p50 \(Format.fixed(p50, 2)) ms, p99 \(Format.fixed(p99, 2)) ms (n = \(count))"
    }
}

extension Duration {
    /// The duration in milliseconds, as a floating-point number.
    var milliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }

    /// The duration in seconds, as a floating-point number.
    var seconds: Double { milliseconds / 1000 }
}
