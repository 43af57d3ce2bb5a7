import CoreMetrics
import Foundation
import ReproCore
import ReproMetrics

/// What the worker exposes on `--metrics-port` (names in `coordinator/grafana/reprogrid.json`):
/// slots busy, jobs by outcome and their duration, results waiting in the spool, and when the
/// coordinator last answered.
enum WorkerMetrics {
    /// Every job outcome at zero, so a fresh worker's scrape shows all series.
    static func registerAll() {
        MetricsRegistry.bootstrap()
        for outcome in RunOutcome.allCases {
            _ = Counter(label: "reprogrid_worker_jobs_total", dimensions: [("outcome", outcome.rawValue)])
            _ = Timer(label: "reprogrid_worker_job_duration_seconds", dimensions: [("outcome", outcome.rawValue)])
        }
    }

    static func slots(configured: Int, busy: Int) {
        MetricsRegistry.bootstrap()
        Gauge(label: "reprogrid_worker_slots").record(configured)
        Gauge(label: "reprogrid_worker_slots_busy").record(busy)
    }

    static func jobFinished(outcome: RunOutcome, duration: Duration) {
        MetricsRegistry.bootstrap()
        Counter(label: "reprogrid_worker_jobs_total", dimensions: [("outcome", outcome.rawValue)]).increment()
        Timer(label: "reprogrid_worker_job_duration_seconds", dimensions: [("outcome", outcome.rawValue)])
            .recordNanoseconds(Int64(duration / .nanoseconds(1)))
    }

    static func spoolDepth(_ depth: Int) {
        MetricsRegistry.bootstrap()
        Gauge(label: "reprogrid_worker_spool_depth").record(depth)
    }

    /// The coordinator answered a lease, heartbeat or results request.
    static func contacted() {
        MetricsRegistry.bootstrap()
        Gauge(label: "reprogrid_worker_last_contact_timestamp_seconds").record(Date().timeIntervalSince1970)
    }
}
