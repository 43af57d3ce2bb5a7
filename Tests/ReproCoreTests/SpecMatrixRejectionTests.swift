import Foundation
import ReproCore
import Testing

@Suite("Rejected matrices and claims")
struct SpecMatrixRejectionTests {
    static let seeds = "seeds: [0, 1, 2, 3, 4]"
    static let datasets = "datasets: [digits, wine, breast_cancer]"

    static let matrix: [RejectionCase] = [
        RejectionCase(old: seeds, new: "seeds: []", path: "matrix.seeds", reason: "must list at least one seed"),
        RejectionCase(
            old: datasets, new: "datasets: []", path: "matrix.datasets",
            reason: "must list at least one dataset", only: false),
        RejectionCase(
            old: seeds, new: "seeds: [0, 1, 2, 1]", path: "matrix.seeds[3]",
            reason: "seed 1 is listed twice (also at matrix.seeds[1])"),
        RejectionCase(
            old: datasets, new: "datasets: [digits, wine, digits]", path: "matrix.datasets[2]",
            reason: "dataset 'digits' is listed twice (also at matrix.datasets[0])"),
        RejectionCase(
            old: seeds, new: "seeds: [0, -1]", path: "matrix.seeds[1]",
            reason: "must be between 0 and 4294967295, got -1"),
        RejectionCase(
            old: seeds, new: "seeds: [4294967296]", path: "matrix.seeds[0]",
            reason: "must be between 0 and 4294967295"),
        RejectionCase(
            old: seeds, new: "seeds: {from: 0, count: -5}", path: "matrix.seeds.count",
            reason: "must be between 1 and 10000, got -5"),
        RejectionCase(
            old: seeds, new: "seeds: {from: 0, count: 100000000}", path: "matrix.seeds.count",
            reason: "must be between 1 and 10000"),
        RejectionCase(
            old: seeds, new: "seeds: {from: 4294967295, count: 2}", path: "matrix.seeds",
            reason: "runs past the largest seed"),
        RejectionCase(
            old: seeds, new: "seeds: {start: 0, count: 2}", path: "matrix.seeds.start",
            reason: "unknown key 'start'", only: false),
        RejectionCase(
            old: seeds, new: "seeds: 5", path: "matrix.seeds",
            reason: "expected a list of seeds such as [0, 1, 2] or a range"),
        RejectionCase(
            old: datasets, new: "datasets: [digits, \"bad name\", breast_cancer]", path: "matrix.datasets[1]",
            reason: "\"bad name\" must be 1 to 64 letters, digits, '_', '.' or '-'", only: false),
        RejectionCase(
            old: datasets, new: "datasets: [digits, wine, \(String(repeating: "x", count: 65))]",
            path: "matrix.datasets[2]", reason: "must be 1 to 64 letters"),
        RejectionCase(
            old: "replicas: 1", new: "replicas: 0", path: "matrix.replicas",
            reason: "must be between 1 and 10, got 0"),
        RejectionCase(
            old: "replicas: 1", new: "replicas: 11", path: "matrix.replicas",
            reason: "must be between 1 and 10, got 11"),
    ]

    @Test(arguments: matrix)
    func matrixMustBeNonEmptyDistinctAndInRange(_ rejection: RejectionCase) {
        rejection.check()
    }

    static let configurations: [RejectionCase] = [
        RejectionCase(
            old: "large: {hidden: 128}", new: "large: {hidden: 128, dropout: 0.1}",
            path: "matrix.configurations.small",
            reason: "does not define parameter 'dropout' (defined in 'large'); every configuration must define the same"
        ),
        RejectionCase(
            old: "large: {hidden: 128}", new: "large: {hidden: [1, 2]}", path: "matrix.configurations.large.hidden",
            reason: "expected a single value (string, number or boolean), got a list"),
        RejectionCase(
            old: "large: {hidden: 128}", new: "large: {hidden: 128, seed: 3}",
            path: "matrix.configurations.large.seed", reason: "'seed' is reserved", only: false),
        RejectionCase(
            old: "large: {hidden: 128}", new: "large: {hidden: 128, learning-rate: 3}",
            path: "matrix.configurations.large.learning-rate", reason: "must start with a letter or '_'", only: false),
        RejectionCase(
            old: "large: {hidden: 128}", new: "\"la rge\": {hidden: 128}", path: "matrix.configurations.la rge",
            reason: "configuration name \"la rge\" must be 1 to 64"),
        RejectionCase(
            old: "configurations:\n    small: {hidden: 32}\n    large: {hidden: 128}", new: "configurations: {}",
            path: "matrix.configurations", reason: "must name at least one configuration, or be left out", only: false),
    ]

    @Test(arguments: configurations)
    func configurationsMustDefineTheSameParameters(_ rejection: RejectionCase) {
        rejection.check()
    }

    static let claims: [RejectionCase] = [
        RejectionCase(
            old: "dataset: digits, value: 0.975", new: "dataset: mnist, value: 0.975", path: "claims[0].dataset",
            reason: "'mnist' is not one of the matrix's datasets (digits, wine, breast_cancer)"),
        RejectionCase(
            old: "value: 0.975", new: "value: .nan", path: "claims[0].value",
            reason: "must be a finite number, got .nan"),
        RejectionCase(
            old: "value: 0.975", new: "value: .inf", path: "claims[0].value", reason: "must be a finite number"),
        RejectionCase(
            old: "tolerance: 0.01", new: "tolerance: -0.01", path: "claims[0].tolerance",
            reason: "must not be negative"),
        RejectionCase(
            old: "configuration: small", new: "configuration: huge", path: "claims[1].configuration",
            reason: "'huge' is not one of the matrix's configurations (large, small)"),
        RejectionCase(
            old: "direction: higher", new: "direction: up", path: "claims[0].direction",
            reason: "must be higher, lower or equal, got \"up\""),
        RejectionCase(
            old: "{metric: loss, dataset: wine, value: 0.2, direction: lower, configuration: small}",
            new: "{metric: accuracy, dataset: digits, value: 0.5, direction: higher}", path: "claims[1]",
            reason: "repeats claims[0] (same metric, dataset and configuration)"),
        RejectionCase(
            old: "metric: accuracy", new: "metric: \"top 1\"", path: "claims[0].metric",
            reason: "must be 1 to 64 letters"),
        RejectionCase(
            old: "metric: accuracy, ", new: "", path: "claims[0].metric", reason: "missing required key 'metric'"),
    ]

    @Test(arguments: claims)
    func claimsMustReferToTheMatrix(_ rejection: RejectionCase) {
        rejection.check()
    }

    @Test func claimConfigurationNeedsConfigurations() {
        let yaml =
            SpecFixtures.minimalYAML
            + "claims: [{metric: accuracy, dataset: digits, value: 0.9, direction: higher, configuration: small}]\n"
        let issues = SpecFixtures.issues(yaml)
        expectIssue(issues, path: "claims[0].configuration", reason: "the matrix has no configurations")
        #expect(issues.count == 1)
    }

    @Test func moreTasksThanTheLimitIsRejected() {
        // 3 datasets × 5 seeds × 2 configurations × 1 replica = 30 tasks.
        let issues = SpecFixtures.issues(SpecFixtures.fullYAML, limits: SpecLimits(maxTasks: 29))
        expectIssue(
            issues, path: "matrix",
            reason: "expands to 30 tasks (3 datasets × 5 seeds × 2 configurations × 1 replicas); the limit is 29")
        #expect(SpecFixtures.issues(SpecFixtures.fullYAML, limits: SpecLimits(maxTasks: 30)).isEmpty)
        let defaultLimit = SpecFixtures.fullYAML(
            replacing: "seeds: [0, 1, 2, 3, 4]", with: "seeds: {from: 0, count: 2000}")
        expectIssue(SpecFixtures.issues(defaultLimit), path: "matrix", reason: "expands to 12000 tasks")
    }
}
