import CoreMetrics
import Foundation
import ReproCore
import ReproMetrics

/// Every metric the coordinator records, by name, so the places that count things stay one line
/// each and the names in `coordinator/grafana/reprogrid.json` have one home (decision 0012).
///
/// The swift-metrics facade is used through functions, not cached handles: a handle made before the
/// backend is installed would stay a no-op for good.
enum CoordinatorMetrics {
    /// Creates the series that would otherwise appear only at their first event, so a scrape of a
    /// fresh coordinator (and the Grafana dashboard) sees every metric at zero rather than nothing.
    static func registerAll() {
        MetricsRegistry.bootstrap()
        for result in ["granted", "empty"] {
            _ = Counter(label: "reprogrid_lease_requests_total", dimensions: [("result", result)])
        }
        _ = Counter(label: "reprogrid_leased_tasks_total")
        _ = Recorder(label: "reprogrid_lease_tasks_per_grant", aggregate: true)
        _ = Counter(label: "reprogrid_lease_wakeups_total")
        _ = Meter(label: "reprogrid_long_polls_waiting")
        for (status, reason) in [("accepted", "succeeded"), ("recorded", "attempt_failed_retry"), ("rejected", "lease_lost")] {
            _ = Counter(label: "reprogrid_results_total", dimensions: [("status", status), ("reason", reason)])
        }
        _ = Counter(label: "reprogrid_reaper_requeued_total")
        _ = Counter(label: "reprogrid_reaper_failed_total")
        _ = Counter(label: "reprogrid_score_recomputations_total")
        _ = Timer(label: "reprogrid_score_pass_duration_seconds")
        _ = Meter(label: "reprogrid_db_connections_in_use")
    }

    // MARK: HTTP

    /// One answered request, by route template (never the raw path: ids would explode the series).
    static func request(route: String, method: String, status: Int, duration: Duration) {
        MetricsRegistry.bootstrap()
        let dimensions = [("route", route), ("method", method), ("status", String(status))]
        Counter(label: "reprogrid_http_requests_total", dimensions: dimensions).increment()
        Timer(label: "reprogrid_http_request_duration_seconds", dimensions: dimensions)
            .recordNanoseconds(Int64(duration / .nanoseconds(1)))
    }

    // MARK: Leasing

    /// A lease request ended, with this many tasks (0: an empty long-poll).
    static func leaseAnswered(tasks: Int) {
        MetricsRegistry.bootstrap()
        Counter(label: "reprogrid_lease_requests_total", dimensions: [("result", tasks > 0 ? "granted" : "empty")])
            .increment()
        if tasks > 0 {
            Counter(label: "reprogrid_leased_tasks_total").increment(by: tasks)
            Recorder(label: "reprogrid_lease_tasks_per_grant", aggregate: true).record(tasks)
        }
    }

    /// A waiting long-poll was woken by a notification.
    static func leaseWokenUp() {
        MetricsRegistry.bootstrap()
        Counter(label: "reprogrid_lease_wakeups_total").increment()
    }

    /// Long-polls asleep on the wake-up signal right now.
    static func longPollWaiting(_ delta: Int) {
        MetricsRegistry.bootstrap()
        let meter = Meter(label: "reprogrid_long_polls_waiting")
        if delta > 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
    }

    /// The receipts of one results batch, by status and a bounded reason.
    static func resultsRecorded(_ receipts: [ResultReceipt]) {
        MetricsRegistry.bootstrap()
        // One counter lookup per (status, reason) of the batch, not per receipt: a lookup goes through the
        // registry's lock and a dictionary keyed by label and dimensions (1.1 % of the Swift pool's samples
        // at batch 50, issue 16).
        var counts: [String: [String: Int64]] = [:]
        for receipt in receipts { counts[receipt.status.rawValue, default: [:]][reason(receipt), default: 0] += 1 }
        for (status, reasons) in counts {
            for (reason, count) in reasons {
                Counter(label: "reprogrid_results_total", dimensions: [("status", status), ("reason", reason)])
                    .increment(by: count)
            }
        }
    }

    /// A label value from a fixed set: receipts' details are free text.
    static func reason(_ receipt: ResultReceipt) -> String {
        switch receipt.status {
        case .accepted, .recorded:
            if receipt.detail == "already received" { return "duplicate" }
            if receipt.status == .accepted { return "succeeded" }
            return receipt.taskState == .failed ? "attempt_failed_final" : "attempt_failed_retry"
        case .rejected:
            switch receipt.taskState {
            case nil: return receipt.detail == "no such task" ? "unknown_task" : "other_worker"
            case .cancelled: return "cancelled"
            case .held: return "held"
            case .succeeded: return "already_succeeded"
            case .failed: return "already_failed"
            case .queued, .leased: return "lease_lost"
            }
        }
    }

    /// One reaper pass.
    static func reaped(requeued: Int, failed: Int) {
        MetricsRegistry.bootstrap()
        Counter(label: "reprogrid_reaper_requeued_total").increment(by: requeued)
        Counter(label: "reprogrid_reaper_failed_total").increment(by: failed)
    }

    // MARK: Scores

    /// One score maintenance pass that recomputed `changed` preprints.
    static func scoresRecomputed(_ changed: Int, duration: Duration) {
        MetricsRegistry.bootstrap()
        Counter(label: "reprogrid_score_recomputations_total").increment(by: changed)
        Timer(label: "reprogrid_score_pass_duration_seconds").recordNanoseconds(Int64(duration / .nanoseconds(1)))
    }

    // MARK: Database

    /// Pool connections held by a call right now.
    static func connectionInUse(_ delta: Int) {
        MetricsRegistry.bootstrap()
        let meter = Meter(label: "reprogrid_db_connections_in_use")
        if delta > 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
    }

    // MARK: Periodic gauges (QueueGauges)

    static func gauge(_ label: String, _ value: Double, dimensions: [(String, String)] = []) {
        MetricsRegistry.bootstrap()
        Gauge(label: label, dimensions: dimensions).record(value)
    }
}
