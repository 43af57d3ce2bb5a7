import Foundation
import ReproCore
import Testing

/// `metrics: {name: {min, max}}` and `verification: {replicate_fraction}` in the spec, and the spot-checked
/// replicas the expansion adds.
@Suite("Metric ranges and verification")
struct MetricRangeAndVerificationTests {
    static let claimsLine = "  - {metric: loss, dataset: wine, value: 0.2, direction: lower, configuration: small}\n"

    static func with(_ extra: String) -> String {
        SpecFixtures.fullYAML(replacing: claimsLine, with: claimsLine + extra)
    }

    @Test func rangesParseAndStayOutOfTheDigestWhenAbsent() throws {
        let spec = try StudySpec.parse(
            Data(Self.with("metrics:\n  accuracy: {min: 0, max: 1}\n  loss: {min: 0}\n").utf8))
        #expect(spec.metrics == ["accuracy": MetricRange(min: 0, max: 1), "loss": MetricRange(min: 0)])
        let plain = try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8))
        #expect(plain.metrics == nil && plain.verification == nil)
        #expect(!String(decoding: plain.canonicalJSON(), as: UTF8.self).contains("metrics"))
        // The stored form parses back to the same spec, as the coordinator reads it.
        #expect(try StudySpec.parse(spec.canonicalJSON(), format: .json) == spec)
        #expect(
            JobSpec(
                code: CodeReference(), requirements: nil, timeoutSeconds: 1, memoryBytes: 0, cpus: 1, gpus: 0,
                metricRanges: spec.metrics
            ).metricRanges?["accuracy"]?.max == 1)
    }

    @Test(arguments: [
        ("metrics:\n  accuracy: {min: 2, max: 1}\n", "metrics.accuracy.min", "must not exceed max"),
        ("metrics:\n  accuracy: {}\n", "metrics.accuracy", "needs 'min', 'max' or both"),
        ("metrics:\n  accuracy: {min: .inf}\n", "metrics.accuracy.min", "finite"),
        ("metrics:\n  accuracy: {low: 0}\n", "metrics.accuracy.low", "unknown"),
        ("metrics:\n  9lives: {min: 0}\n", "metrics.9lives", "must be 1 to 64"),
        ("metrics: [accuracy]\n", "metrics", "expected a mapping"),
        ("verification: {replicate_fraction: 0}\n", "verification.replicate_fraction", "greater than 0"),
        ("verification: {replicate_fraction: 1.5}\n", "verification.replicate_fraction", "at most 1"),
        ("verification: {}\n", "verification.replicate_fraction", "missing"),
    ])
    func badDeclarationsNameFieldAndLine(yaml: String, path: String, reason: String) {
        let text = Self.with(yaml)
        let issues = SpecFixtures.issues(text)
        expectIssue(issues, path: path, reason: reason)
        let issue = issues.first { $0.path == path }
        #expect(issue?.line != nil, "no line for \(path)")
    }

    @Test func metricRangeMessages() {
        let ranges = ["accuracy": MetricRange(min: 0, max: 1)]
        #expect(MetricRange.violation(metric: "accuracy", value: 0.5, ranges: ranges) == nil)
        #expect(MetricRange.violation(metric: "loss", value: 1e308, ranges: ranges) == nil)
        let reason = MetricRange.violation(metric: "accuracy", value: 7, ranges: ranges)
        #expect(
            reason == "metric accuracy = 7 is outside its declared range [0, 1] (metrics.accuracy in the study spec)")
        #expect(MetricRange(min: 0).description == "[0, ∞)")
    }

    @Test func spotChecksAddOneReplicaToTheirShareOfGroups() throws {
        // 3 datasets × 2 configurations × 5 seeds = 30 groups; 10 % → 3 spot-checked groups.
        let spec = try StudySpec.parse(Data(Self.with("verification: {replicate_fraction: 0.1}\n").utf8))
        let tasks = spec.expand()
        #expect(tasks.count == 33)
        let checked = Dictionary(grouping: tasks.filter(\.distinctAccounts), by: \.seedGroup)
        #expect(checked.count == 3)
        #expect(
            checked.values.allSatisfy {
                $0.count == 2 && $0.map(\.replica) == [0, 1] && $0.allSatisfy { $0.groupSize == 2 }
            })
        #expect(tasks.filter { !$0.distinctAccounts }.allSatisfy { $0.groupSize == 1 && $0.replica == 0 })
        // Reproducible: the same spec picks the same groups; the unchecked study is unchanged.
        #expect(spec.expand() == tasks)
        let plain = try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8)).expand()
        #expect(plain.count == 30 && plain.allSatisfy { !$0.distinctAccounts && $0.groupSize == 1 })
        // A tiny fraction still checks one group.
        let tiny = try StudySpec.parse(Data(Self.with("verification: {replicate_fraction: 0.001}\n").utf8))
        #expect(tiny.expand().count == 31)
    }

    @Test func spotChecksCountAgainstTheTaskLimit() {
        let issues = SpecFixtures.issues(
            Self.with("verification: {replicate_fraction: 1}\n"), limits: SpecLimits(maxTasks: 40))
        expectIssue(issues, path: "verification.replicate_fraction", reason: "the limit is 40")
    }
}
