import Foundation

/// Latencies of one query, with nearest-rank percentiles.
struct Latency {
    var name: String
    var samples: [Duration] = []

    func percentile(_ p: Double) -> Duration {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return .zero }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.2f ms", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    var line: String {
        "\(name): n=\(samples.count) p50=\(Self.milliseconds(percentile(50))) p99=\(Self.milliseconds(percentile(99))) "
            + "max=\(Self.milliseconds(samples.max() ?? .zero))"
    }
}
