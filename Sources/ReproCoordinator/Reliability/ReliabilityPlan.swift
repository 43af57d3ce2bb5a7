import Foundation

/// Decides which replicas of a study agree with their seed group, in memory: the background pass reads the
/// accepted runs, this type decides, and the pass writes the checks and counters in a few statements.
///
/// Per cell (dataset, configuration, metric) the repeat noise σ_repeat is estimated robustly from every seed
/// group with replicas on two or more distinct workers: each group gives a scale (the |difference| of a pair,
/// or the raw MAD of three or more replicas, each divided by its median under normal noise, so it estimates σ),
/// and σ̂ is the median of those over the groups. A minority of bad replicas — or of bad groups — cannot
/// inflate it, where the ANOVA's within-seed mean square (statistics.md §3) would grow with them. The
/// repeatability limit is r = 2.8·σ̂ (ISO 5725), floored at ``floor(center:)`` for deterministic studies.
///
/// A replica disagrees when, for any metric: in a pair, the two values differ by more than r (both count as
/// disagreeing: one pair cannot tell which is wrong); with three or more, its distance to the group's median
/// exceeds r (the median is itself a result, so that is a difference of two results, as r is defined).
struct ReliabilityPlan {
    /// One accepted run of a replicated seed group.
    struct Replica: Sendable {
        var runID: Int64
        var workerID: UUID
        var seedGroup: Int
        var dataset: String
        var configuration: String?
        var metrics: [String: Double]
    }

    /// The verdict on one replica.
    struct Check: Sendable, Equatable {
        var runID: Int64
        var workerID: UUID
        var seedGroup: Int
        var agrees: Bool
        var detail: String
    }

    /// A worker's counters.
    struct Counters: Sendable, Equatable {
        var agreeing: Int64 = 0
        var disagreeing: Int64 = 0
        var consecutiveAgreeing: Int64 = 0
    }

    /// Relative floor of the repeatability limit (of |group median|) ...
    static let relativeFloor = 1e-6
    /// ... and its absolute floor, for values near 0: bitwise-deterministic studies still tolerate rounding
    /// in the last printed digits, and nothing smaller.
    static let absoluteFloor = 1e-9

    /// The smallest limit used around `center`.
    static func floor(center: Double) -> Double { Swift.max(relativeFloor * abs(center), absoluteFloor) }

    /// Median under N(0, 1) noise of a group's scale statistic: |x₁ − x₂| for two replicas, the raw MAD for
    /// k ≥ 3 (Monte Carlo, 60 000 draws each; index k). Dividing by it turns the statistic into an estimate of σ.
    static let scaleConstants: [Int: Double] = [
        2: 0.9548, 3: 0.3587, 4: 0.4543, 5: 0.5028, 6: 0.5335, 7: 0.5579, 8: 0.5752, 9: 0.5854, 10: 0.5964,
        11: 0.6020,
    ]

    /// Checks every replica of `replicas` not in `alreadyChecked`, in run id order.
    static func evaluate(_ replicas: [Replica], alreadyChecked: Set<Int64> = []) -> [Check] {
        // Groups whose replicas ran on at least two distinct workers; the others check nothing.
        let grouped = Dictionary(grouping: replicas, by: \.seedGroup).filter {
            Set($0.value.map(\.workerID)).count >= 2
        }
        // The limit of each cell, from every group of the cell (checked before or not: more data, better σ̂).
        var scales: [CellKey: [Double]] = [:]
        for runs in grouped.values {
            for metric in Set(runs.flatMap(\.metrics.keys)) {
                let values = runs.compactMap { $0.metrics[metric] }
                guard values.count >= 2, let scale = groupScale(values) else { continue }
                scales[CellKey(runs[0], metric), default: []].append(scale)
            }
        }
        let sigma = scales.mapValues { median($0) ?? 0 }

        var checks: [Check] = []
        for group in grouped.keys.sorted() {
            let runs = grouped[group]!
            for run in runs where !alreadyChecked.contains(run.runID) {
                var reasons: [String] = []
                var compared = 0
                for metric in run.metrics.keys.sorted() {
                    let values = runs.compactMap { $0.metrics[metric] }
                    guard values.count >= 2, let value = run.metrics[metric] else { continue }
                    compared += 1
                    let center = median(values)!
                    let limit = Swift.max(2.8 * (sigma[CellKey(run, metric)] ?? 0), floor(center: center))
                    let distance: Double
                    if values.count == 2 {
                        distance = abs(values[0] - values[1])
                    } else {
                        distance = abs(value - center)
                    }
                    if !(distance <= limit) {
                        reasons.append(
                            "\(metric) \(format(value)) is \(format(distance)) from its group (limit \(format(limit)))")
                    }
                }
                guard compared > 0 else { continue }
                checks.append(
                    Check(
                        runID: run.runID, workerID: run.workerID, seedGroup: group, agrees: reasons.isEmpty,
                        detail: reasons.isEmpty
                            ? "agrees with \(runs.count - 1) other replica(s) on \(compared) metric(s)"
                            : reasons.joined(separator: "; ")))
            }
        }
        return checks.sorted { $0.runID < $1.runID }
    }

    /// The counters after `checks` (taken in run id order), from `current`: a disagreement resets the
    /// consecutive-agreement count, as BOINC's consecutive valid results.
    static func counters(after checks: [Check], from current: [UUID: Counters]) -> [UUID: Counters] {
        var counters = current
        for check in checks.sorted(by: { $0.runID < $1.runID }) {
            var entry = counters[check.workerID] ?? Counters()
            if check.agrees {
                entry.agreeing += 1
                entry.consecutiveAgreeing += 1
            } else {
                entry.disagreeing += 1
                entry.consecutiveAgreeing = 0
            }
            counters[check.workerID] = entry
        }
        return counters
    }

    /// The group's estimate of σ; nil for more replicas than the constants cover.
    static func groupScale(_ values: [Double]) -> Double? {
        guard let constant = scaleConstants[values.count] else { return nil }
        let statistic: Double
        if values.count == 2 {
            statistic = abs(values[0] - values[1])
        } else {
            let center = median(values)!
            statistic = median(values.map { abs($0 - center) })!
        }
        let scale = statistic / constant
        return scale.isFinite ? scale : nil
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : sorted[middle - 1] / 2 + sorted[middle] / 2
    }

    static func format(_ value: Double) -> String { String(format: "%.6g", value) }

    struct CellKey: Hashable {
        var dataset: String
        var configuration: String
        var metric: String

        init(_ replica: Replica, _ metric: String) {
            dataset = replica.dataset
            configuration = replica.configuration ?? ""
            self.metric = metric
        }
    }
}
