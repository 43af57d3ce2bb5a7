import Dispatch

extension Duration {
    /// The duration as whole nanoseconds, saturating instead of trapping on overflow.
    var nanosecondsClamped: Int {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int.min : Int.max }
        let (total, overflow2) = Int(scaled).addingReportingOverflow(Int(attoseconds / 1_000_000_000))
        if overflow2 { return seconds < 0 ? Int.min : Int.max }
        return total
    }

    /// The duration for `DispatchQueue.asyncAfter`; negative durations become zero.
    var dispatchInterval: DispatchTimeInterval {
        .nanoseconds(Swift.max(0, nanosecondsClamped))
    }

    /// The duration in seconds, for messages and logs.
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
