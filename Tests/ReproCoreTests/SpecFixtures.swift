import Foundation
import ReproCore
import Testing

/// Specs and helpers shared by the spec tests.
enum SpecFixtures {
    static let bundle = "sha256:" + String(repeating: "ab", count: 32)

    /// A complete, valid spec using every feature; the rejection tests break one line of it at a time.
    static let fullYAML = """
        preprint:
          id: "arXiv:2401.01234"
          title: "Small Nets Generalise"
          authors: ["Ada Lovelace", "Alan Turing"]
          institutions: ["University of Edinburgh"]
          field: "cs.LG"
          funding: [{funder: "ERC", grant: "101000001"}]
        code:
          bundle: "\(bundle)"
        environment:
          python:
            requirements: requirements.txt
        run:
          command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}", "--hidden={hidden}"]
          timeout: 10m
          resources: {cpus: 2, memory: 2GiB, gpus: 0}
          max_attempts: 4
        matrix:
          seeds: [0, 1, 2, 3, 4]
          datasets: [digits, wine, breast_cancer]
          configurations:
            small: {hidden: 32}
            large: {hidden: 128}
          replicas: 1
        claims:
          - {metric: accuracy, dataset: digits, value: 0.975, direction: higher, tolerance: 0.01}
          - {metric: loss, dataset: wine, value: 0.2, direction: lower, configuration: small}

        """

    /// ``fullYAML`` written as JSON.
    static let fullJSON = """
        {
          "preprint": {
            "id": "arXiv:2401.01234",
            "title": "Small Nets Generalise",
            "authors": ["Ada Lovelace", "Alan Turing"],
            "institutions": ["University of Edinburgh"],
            "field": "cs.LG",
            "funding": [{"funder": "ERC", "grant": "101000001"}]
          },
          "code": {"bundle": "\(bundle)"},
          "environment": {"python": {"requirements": "requirements.txt"}},
          "run": {
            "command": ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}", "--hidden={hidden}"],
            "timeout": 600,
            "resources": {"cpus": 2, "memory": 2147483648, "gpus": 0},
            "max_attempts": 4
          },
          "matrix": {
            "seeds": [0, 1, 2, 3, 4],
            "datasets": ["digits", "wine", "breast_cancer"],
            "configurations": {"small": {"hidden": 32}, "large": {"hidden": "128"}},
            "replicas": 1
          },
          "claims": [
            {"metric": "accuracy", "dataset": "digits", "value": 0.975, "direction": "higher", "tolerance": 0.01},
            {"metric": "loss", "dataset": "wine", "value": 0.2, "direction": "lower", "configuration": "small"}
          ]
        }
        """

    /// What ``fullYAML`` and ``fullJSON`` mean.
    static let fullSpec = StudySpec(
        preprint: PreprintSpec(
            id: "arXiv:2401.01234", title: "Small Nets Generalise", authors: ["Ada Lovelace", "Alan Turing"],
            institutions: ["University of Edinburgh"], field: "cs.LG",
            funding: [FundingSpec(funder: "ERC", grant: "101000001")]),
        code: .bundle(bundle),
        environment: .python(requirements: "requirements.txt"),
        run: RunSpec(
            command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}", "--hidden={hidden}"],
            timeoutSeconds: 600, resources: ResourceSpec(cpus: 2, memoryBytes: 2 << 30, gpus: 0), maxAttempts: 4),
        matrix: MatrixSpec(
            seeds: [0, 1, 2, 3, 4], datasets: ["digits", "wine", "breast_cancer"],
            configurations: [
                ConfigurationSpec(name: "small", parameters: ["hidden": "32"]),
                ConfigurationSpec(name: "large", parameters: ["hidden": "128"]),
            ], replicas: 1),
        claims: [
            ClaimSpec(metric: "accuracy", dataset: "digits", value: 0.975, direction: .higher, tolerance: 0.01),
            ClaimSpec(metric: "loss", dataset: "wine", value: 0.2, direction: .lower, configuration: "small"),
        ])

    /// The smallest valid spec: only required keys.
    static let minimalYAML = """
        preprint: {id: "2401.01234v2", title: "T"}
        code: {git: {url: "https://github.com/example/train.git", commit: "0123456789abcdef0123456789abcdef01234567"}}
        run: {command: [python3, train.py, "--seed={seed}", "--dataset={dataset}"], timeout: 90}
        matrix: {seeds: [7], datasets: [digits]}

        """

    /// ``fullYAML`` with `old` replaced by `new`; fails the test when `old` is not in it, so a changed
    /// fixture cannot silently turn a rejection test into a no-op.
    static func fullYAML(
        replacing old: String, with new: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> String {
        #expect(fullYAML.contains(old), "fixture does not contain \(old)", sourceLocation: sourceLocation)
        return fullYAML.replacingOccurrences(of: old, with: new)
    }

    /// The issues `text` is rejected with, or none when it parses.
    static func issues(
        _ text: String, format: SpecFormat? = nil, limits: SpecLimits = .default, context: SpecContext = .server
    ) -> [SpecIssue] {
        do {
            _ = try StudySpec.parse(Data(text.utf8), format: format, limits: limits, context: context)
            return []
        } catch {
            return error.issues
        }
    }

    /// The line of the first occurrence of `fragment` in `text`, 1-based.
    static func line(of fragment: String, in text: String) -> Int? {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(fragment) }.map {
            $0 + 1
        }
    }
}

/// Expects an issue at `path` whose reason contains `fragment`.
func expectIssue(
    _ issues: [SpecIssue], path: String, reason fragment: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        issues.contains { $0.path == path && $0.reason.contains(fragment) },
        "expected \(path): …\(fragment)…, got:\n\(SpecValidationError(issues: issues))",
        sourceLocation: sourceLocation)
}

/// One way to break the full spec, and the issue it must produce.
struct RejectionCase: Sendable, CustomTestStringConvertible {
    var old: String
    var new: String
    var path: String
    var reason: String
    /// Whether this must be the only issue (false where a second, expected issue follows from the first).
    var only = true

    var testDescription: String { "\(path): \(reason)" }

    func check(context: SpecContext = .server, sourceLocation: SourceLocation = #_sourceLocation) {
        let issues = SpecFixtures.issues(
            SpecFixtures.fullYAML(replacing: old, with: new, sourceLocation: sourceLocation), context: context)
        expectIssue(issues, path: path, reason: reason, sourceLocation: sourceLocation)
        if only {
            #expect(
                issues.count == 1, "more issues than expected:\n\(SpecValidationError(issues: issues))",
                sourceLocation: sourceLocation)
        }
    }
}
