import Foundation
import ReproCore
import Testing

@Suite("Rejected run sections")
struct SpecRunRejectionTests {
    static let fullCommand =
        "command: [\"python3\", \"train.py\", \"--seed\", \"{seed}\", \"--dataset\", \"{dataset}\", "
        + "\"--hidden={hidden}\"]"

    static let command: [RejectionCase] = [
        RejectionCase(old: fullCommand, new: "command: []", path: "run.command", reason: "must not be empty"),
        RejectionCase(
            old: fullCommand, new: "command: [\"\", \"{seed}\", \"{dataset}\"]", path: "run.command[0]",
            reason: "the program name must not be empty"),
        RejectionCase(old: "\"--seed\", \"{seed}\", ", new: "", path: "run.command", reason: "must contain {seed}"),
        RejectionCase(
            old: "\"--dataset\", \"{dataset}\", ", new: "", path: "run.command",
            reason: "must contain {dataset}"),
        RejectionCase(
            old: "\"--hidden={hidden}\"", new: "\"--hidden={hidden}\", \"--out={foo}\"",
            path: "run.command[7]", reason: "unknown placeholder {foo} (known: {seed}, {dataset}, {config}, {hidden})"),
        RejectionCase(
            old: "\"--hidden={hidden}\"", new: "\"--hidden={hiden}\"", path: "run.command[6]",
            reason: "unknown placeholder {hiden} (did you mean {hidden}?)"),
        RejectionCase(
            old: "\"{seed}\"", new: "\"{seed}\", {seed: 1}", path: "run.command[4]",
            reason: "expected a string, got a mapping"),
    ]

    @Test(arguments: command)
    func commandMustBeAListWithSeedAndDatasetAndKnownPlaceholders(_ rejection: RejectionCase) {
        rejection.check()
    }

    @Test func configPlaceholderNeedsConfigurations() {
        let yaml = SpecFixtures.minimalYAML.replacingOccurrences(
            of: "\"--dataset={dataset}\"", with: "\"--dataset={dataset}\", \"--config={config}\"")
        let issues = SpecFixtures.issues(yaml)
        expectIssue(issues, path: "run.command[4]", reason: "{config} needs matrix.configurations")
        #expect(issues.count == 1)
    }

    static let limits: [RejectionCase] = [
        RejectionCase(
            old: "timeout: 10m", new: "timeout: 10 minutes", path: "run.timeout",
            reason: "\"10 minutes\" is not a duration (use 90s, 10m, 1h30m or seconds)"),
        RejectionCase(
            old: "timeout: 10m", new: "timeout: 0", path: "run.timeout", reason: "must be more than 0 seconds"),
        RejectionCase(
            old: "timeout: 10m", new: "timeout: -5", path: "run.timeout",
            reason: "must be more than 0 seconds"),
        RejectionCase(
            old: "timeout: 10m", new: "timeout: 0s", path: "run.timeout",
            reason: "must be more than 0 seconds"),
        RejectionCase(old: "timeout: 10m", new: "timeout: 7d1s", path: "run.timeout", reason: "must be at most 7 days"),
        RejectionCase(old: "timeout: 10m", new: "timeout: 1e20", path: "run.timeout", reason: "must be at most 7 days"),
        RejectionCase(old: "timeout: 10m", new: "timeout: true", path: "run.timeout", reason: "is not a duration"),
        RejectionCase(
            old: "memory: 2GiB", new: "memory: 1MiB", path: "run.resources.memory",
            reason: "must be between 16MiB and 1TiB, got 1MiB"),
        RejectionCase(
            old: "memory: 2GiB", new: "memory: 2TiB", path: "run.resources.memory",
            reason: "must be between 16MiB and 1TiB"),
        RejectionCase(
            old: "memory: 2GiB", new: "memory: -1", path: "run.resources.memory",
            reason: "must be between 16MiB and 1TiB"),
        RejectionCase(
            old: "memory: 2GiB", new: "memory: 2 gigs", path: "run.resources.memory",
            reason: "\"2 gigs\" is not a size (use 512MiB, 2GiB, 1G or bytes)"),
        RejectionCase(
            old: "cpus: 2", new: "cpus: 0", path: "run.resources.cpus",
            reason: "must be between 1 and 256, got 0"),
        RejectionCase(
            old: "cpus: 2", new: "cpus: 1000", path: "run.resources.cpus", reason: "must be between 1 and 256"),
        RejectionCase(old: "gpus: 0", new: "gpus: -1", path: "run.resources.gpus", reason: "must be between 0 and 16"),
        RejectionCase(old: "gpus: 0", new: "gpus: 17", path: "run.resources.gpus", reason: "must be between 0 and 16"),
        RejectionCase(old: "gpus: 0", new: "gpu: 0", path: "run.resources.gpu", reason: "did you mean 'gpus'?"),
        RejectionCase(
            old: "max_attempts: 4", new: "max_attempts: 0", path: "run.max_attempts",
            reason: "must be between 1 and 20, got 0"),
        RejectionCase(
            old: "max_attempts: 4", new: "max_attempts: 21", path: "run.max_attempts",
            reason: "must be between 1 and 20, got 21"),
    ]

    @Test(arguments: limits)
    func timeAndResourceLimitsMustBeInRange(_ rejection: RejectionCase) {
        rejection.check()
    }
}
