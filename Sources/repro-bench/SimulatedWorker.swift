import Foundation
import ReproClient
import ReproCore

/// One simulated volunteer worker: lease up to `batch` tasks, answer them at once with a no-op success
/// in one result batch, repeat until every task of the run is accepted or the time limit passes.
struct SimulatedWorker: Sendable {
    /// What one worker measured; merged by the benchmark after the run.
    struct Measurements: Sendable {
        var leaseLatencies: [Duration] = []
        var resultLatencies: [Duration] = []
        /// Lease requests that came back empty (long polls at the end of the run), kept out of the latencies.
        var emptyLeases = 0
        var accepted = 0
    }

    let client: CoordinatorClient
    let batch: Int
    /// Long-poll wait of a lease request, so idle workers at the tail do not spin on the database.
    let waitSeconds: Double
    let progress: RunProgress
    let deadline: ContinuousClock.Instant
    /// Results travel with the next lease request (`POST /v1/leases/cycle`), as the worker does by
    /// default; otherwise lease and results are two requests (`POST /v1/leases`, `POST /v1/results`).
    var cycle = false
    /// Metrics every result reports: `score` (the study's claim) and `metric_1`… for the rest.
    var metricCount = 1

    /// Runs the loop; returns early (without error) when the run is complete, even mid-request.
    func run() async throws -> Measurements {
        cycle ? try await runCycles() : try await runSeparately()
    }

    static func results(for leases: [TaskLease], metricCount: Int = 1) -> [TaskResult] {
        let metrics = Self.metrics(count: metricCount)
        return leases.map { lease in
            TaskResult(
                taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 0,
                metrics: metrics, error: nil, logTail: nil, fingerprint: nil, hardwareClass: "bench-cpu")
        }
    }

    /// `score` plus `metric_1`…`metric_{count-1}`: the ingestion benchmark of issue 16 sends 10 per run.
    static func metrics(count: Int) -> [String: Double] {
        var metrics = ["score": 0.5]
        for index in stride(from: 1, to: count, by: 1) {
            metrics["metric_\(index)"] = Double(index) / 10
        }
        return metrics
    }

    /// One request per cycle: the previous batch's results and the next lease. Its latency counts as a
    /// lease latency (there is no separate result request).
    private func runCycles() async throws -> Measurements {
        var measurements = Measurements()
        let clock = ContinuousClock()
        var pending: [TaskResult] = []
        while !progress.isComplete || !pending.isEmpty {
            guard clock.now < deadline else { throw BenchError("time limit reached before every task was accepted") }
            do {
                let start = clock.now
                // Nothing left to lease once the run is complete: only report.
                let answer = try await client.cycle(
                    results: pending, max: progress.isComplete ? 0 : batch, wait: pending.isEmpty ? waitSeconds : 0)
                let accepted = answer.results.filter { $0.status == .accepted }.count
                guard accepted == pending.count else {
                    throw BenchError("only \(accepted) of \(pending.count) results were accepted: \(answer.results.map(\.detail))")
                }
                measurements.accepted += accepted
                progress.add(accepted: accepted)
                pending = Self.results(for: answer.lease.leases, metricCount: metricCount)
                if answer.lease.leases.isEmpty && accepted == 0 {
                    measurements.emptyLeases += 1
                } else {
                    measurements.leaseLatencies.append(clock.now - start)
                }
            } catch {
                if progress.isComplete && pending.isEmpty { break }
                throw error
            }
        }
        return measurements
    }

    private func runSeparately() async throws -> Measurements {
        var measurements = Measurements()
        let clock = ContinuousClock()
        while !progress.isComplete {
            guard clock.now < deadline else { throw BenchError("time limit reached before every task was accepted") }
            do {
                let leaseStart = clock.now
                let leases = try await client.lease(max: batch, wait: waitSeconds).leases
                guard !leases.isEmpty else {
                    measurements.emptyLeases += 1
                    continue
                }
                measurements.leaseLatencies.append(clock.now - leaseStart)
                let results = Self.results(for: leases, metricCount: metricCount)
                let resultStart = clock.now
                let receipts = try await client.submitResults(results)
                measurements.resultLatencies.append(clock.now - resultStart)
                let accepted = receipts.filter { $0.status == .accepted }.count
                guard accepted == results.count else {
                    throw BenchError("only \(accepted) of \(results.count) results were accepted: \(receipts.map(\.detail))")
                }
                measurements.accepted += accepted
                progress.add(accepted: accepted)
            } catch {
                // Once the run is complete the benchmark cancels the long polls still waiting: not a failure.
                if progress.isComplete { break }
                throw error
            }
        }
        return measurements
    }
}
