import CoreMetrics
import Prometheus

/// The process's one Prometheus registry, installed as the swift-metrics backend the first time it
/// is used.
///
/// swift-metrics allows one bootstrap per process, and tests build many coordinators in one process:
/// a lazily initialised static does it exactly once, whoever asks first. Counters made through the
/// facade before the bootstrap (none in practice: executables call ``bootstrap()`` first) would go
/// to swift-metrics' no-op backend.
public enum MetricsRegistry {
    /// The registry `/metrics` renders.
    public static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10), .seconds(30),
        ]
        // Jobs train models: minutes to hours, not request latencies.
        factory.durationHistogramBuckets["reprogrid_worker_job_duration_seconds"] = [
            .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
            .seconds(1800), .seconds(3600), .seconds(3 * 3600), .seconds(12 * 3600),
        ]
        factory.valueHistogramBuckets["reprogrid_lease_tasks_per_grant"] = [1, 2, 4, 8, 16, 32, 64]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Installs the registry as the swift-metrics backend (idempotent).
    public static func bootstrap() { _ = shared }

    /// The exposition text of every metric recorded so far.
    public static func exposition() -> String { shared.emitToString() }
}
