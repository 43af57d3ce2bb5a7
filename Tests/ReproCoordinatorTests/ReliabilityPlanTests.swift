import Foundation
import Testing

@testable import ReproCoordinator

/// The decisions of the reliability pass and of quarantines, as plain values (no database).
@Suite("Reliability and quarantine plans")
struct ReliabilityPlanTests {
    static let honestA = UUID()
    static let honestB = UUID()
    static let honestC = UUID()
    static let fake = UUID()
    /// Honest repeat noise of the test data.
    static let sigma = 0.0015

    /// The layout of the database test too: six seeds × three replicas on four workers; the fake worker ran one
    /// replica of seeds 0 and 1, 10 σ above the honest ones, whose spread around the median is typical of
    /// normal noise (0, +0.36 σ, −1 σ: the raw MAD of three normal draws has median 0.3587 σ).
    static func replicas(fakeOffset: Double = 10 * sigma) -> [ReliabilityPlan.Replica] {
        var replicas: [ReliabilityPlan.Replica] = []
        var run: Int64 = 0
        for group in 0..<6 {
            let base = 0.9 + Double(group) / 100
            let layout: [(UUID, Double)] =
                group < 2
                ? [(honestA, 0), (honestB, 0.9 * sigma), (fake, fakeOffset)]
                : [(honestA, 0.36 * sigma), (honestB, -1.0 * sigma), (honestC, 0)]
            for (worker, offset) in layout {
                run += 1
                replicas.append(
                    .init(
                        runID: run, workerID: worker, seedGroup: group, dataset: "digits", configuration: nil,
                        metrics: ["accuracy": base + offset]))
            }
        }
        return replicas
    }

    @Test("a replica 10 σ off disagrees in every group; the honest ones agree")
    func fakeWorkerDisagrees() {
        let checks = ReliabilityPlan.evaluate(Self.replicas())
        #expect(checks.count == 18)
        #expect(checks.filter { $0.workerID == Self.fake }.map(\.agrees) == [false, false])
        #expect(checks.filter { $0.workerID != Self.fake }.allSatisfy { $0.agrees })
        let counters = ReliabilityPlan.counters(after: checks, from: [:])
        #expect(counters[Self.fake] == .init(agreeing: 0, disagreeing: 2, consecutiveAgreeing: 0))
        #expect(counters[Self.honestA] == .init(agreeing: 6, disagreeing: 0, consecutiveAgreeing: 6))
        #expect(checks.first { !$0.agrees }?.detail.contains("accuracy") == true)
        // 3 σ off is within the limit (r = 2.8 σ̂ from the median of the group scales).
        #expect(ReliabilityPlan.evaluate(Self.replicas(fakeOffset: 2 * Self.sigma)).allSatisfy { $0.agrees })
    }

    @Test("runs already checked are not checked again; groups on one worker check nothing")
    func idempotentAndDistinctWorkers() {
        let replicas = Self.replicas()
        let first = ReliabilityPlan.evaluate(replicas)
        #expect(ReliabilityPlan.evaluate(replicas, alreadyChecked: Set(first.map(\.runID))).isEmpty)
        let sameWorker = replicas.map { replica -> ReliabilityPlan.Replica in
            var copy = replica
            copy.workerID = Self.honestA
            return copy
        }
        #expect(ReliabilityPlan.evaluate(sameWorker).isEmpty)
    }

    @Test("a deterministic study uses the floor: equal replicas agree, a 1e-3 relative difference does not")
    func deterministicFloor() {
        func pair(_ a: Double, _ b: Double, group: Int) -> [ReliabilityPlan.Replica] {
            [
                .init(
                    runID: Int64(group * 2), workerID: Self.honestA, seedGroup: group, dataset: "d", configuration: nil,
                    metrics: ["m": a]),
                .init(
                    runID: Int64(group * 2 + 1), workerID: Self.fake, seedGroup: group, dataset: "d",
                    configuration: nil, metrics: ["m": b]),
            ]
        }
        let equal = (0..<5).flatMap { pair(0.5, 0.5, group: $0) }
        #expect(ReliabilityPlan.evaluate(equal).allSatisfy { $0.agrees })
        // Four groups bitwise equal, one off by 5e-4: σ̂ (a median over groups) stays 0, the floor decides.
        let oneOff = (0..<4).flatMap { pair(0.5, 0.5, group: $0) } + pair(0.5, 0.5005, group: 4)
        let checks = ReliabilityPlan.evaluate(oneOff)
        #expect(checks.filter { !$0.agrees }.map(\.seedGroup) == [4, 4])
        #expect(ReliabilityPlan.floor(center: 0.5) == 5e-7)
        #expect(ReliabilityPlan.floor(center: 0) == 1e-9)
    }

    @Test("a disagreement resets the consecutive count")
    func consecutive() {
        let worker = UUID()
        let checks = [true, true, false, true].enumerated().map {
            ReliabilityPlan.Check(
                runID: Int64($0.offset), workerID: worker, seedGroup: 0, agrees: $0.element, detail: "")
        }
        let counters = ReliabilityPlan.counters(
            after: checks, from: [worker: .init(agreeing: 10, disagreeing: 1, consecutiveAgreeing: 10)])
        #expect(counters[worker] == .init(agreeing: 13, disagreeing: 2, consecutiveAgreeing: 1))
    }

    @Test func automaticRule() {
        let rule = AutomaticQuarantineRule(minChecks: 10, maxDisagreementRate: 0.5)
        #expect(rule.verdict(agreeing: 0, disagreeing: 9) == nil)
        #expect(rule.verdict(agreeing: 5, disagreeing: 5) == nil)
        #expect(rule.verdict(agreeing: 4, disagreeing: 6)?.hasPrefix("automatic: 6 of 10") == true)
    }

    // MARK: - Quarantine

    static let study = UUID()
    static let cancelledStudy = UUID()

    @Test("quarantine excludes accepted runs, requeues their tasks and the held ones, reopens the study")
    func quarantinePlan() {
        let tasks: [QuarantinePlan.TaskRow] = [
            .init(id: 1, state: "succeeded", study: Self.study, studyState: "completed"),
            .init(id: 2, state: "succeeded", study: Self.study, studyState: "completed"),
            .init(id: 3, state: "leased", study: Self.study, studyState: "running"),
            .init(id: 4, state: "succeeded", study: Self.cancelledStudy, studyState: "cancelled"),
        ]
        let plan = QuarantinePlan.quarantine(
            tasks: tasks, accepted: [.init(id: 10, task: 1), .init(id: 11, task: 2), .init(id: 12, task: 4)], held: [3])
        #expect(plan.runsExcluded == [10, 11, 12])
        #expect(plan.tasksRequeued == [1, 2, 3])
        #expect(plan.reopenedByStudy == [Self.study: 2])
    }

    @Test("release restores runs whose task was not redone and supersedes the others")
    func releasePlan() {
        let tasks: [QuarantinePlan.TaskRow] = [
            .init(id: 1, state: "queued", study: Self.study, studyState: "running"),
            .init(id: 2, state: "succeeded", study: Self.study, studyState: "running", hasAcceptedRun: true),
            .init(id: 3, state: "failed", study: Self.study, studyState: "running"),
            .init(id: 4, state: "leased", study: Self.study, studyState: "running"),
        ]
        let plan = QuarantinePlan.release(
            tasks: tasks,
            excluded: [
                .init(id: 10, task: 1), .init(id: 11, task: 2), .init(id: 12, task: 3), .init(id: 13, task: 4),
                .init(id: 9, task: 4),
            ])
        #expect(plan.runsRestored == [10, 12, 13])
        #expect(plan.runsSuperseded == [9, 11])
        #expect(plan.tasksSucceeded == [1, 3, 4])
        #expect(plan.closedByStudy == [Self.study: 2])
    }
}
