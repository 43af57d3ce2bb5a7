import Foundation
import ReproCore
import Testing

@Suite("Issue reporting: all at once, with lines")
struct SpecIssueReportingTests {
    @Test func everyProblemIsReportedInLineOrder() {
        let yaml = SpecFixtures.fullYAML(replacing: "title: \"Small Nets Generalise\"", with: "title: \"\"")
            .replacingOccurrences(of: "timeout: 10m", with: "timeout: forever")
            .replacingOccurrences(of: "seeds: [0, 1, 2, 3, 4]", with: "seedz: [0, 1]")
            .replacingOccurrences(of: "replicas: 1", with: "replicas: 12")
            .replacingOccurrences(of: "dataset: digits, value", with: "dataset: mnist, value")
        let issues = SpecFixtures.issues(yaml)
        expectIssue(issues, path: "preprint.title", reason: "must not be empty")
        expectIssue(issues, path: "run.timeout", reason: "is not a duration")
        expectIssue(issues, path: "matrix.seedz", reason: "did you mean 'seeds'?")
        expectIssue(issues, path: "matrix.seeds", reason: "missing required key 'seeds'")
        expectIssue(issues, path: "matrix.replicas", reason: "must be between 1 and 10")
        expectIssue(issues, path: "claims[0].dataset", reason: "'mnist' is not one of the matrix's datasets")
        #expect(issues.count == 6)
        let lines = issues.compactMap(\.line)
        #expect(lines.count == issues.count)
        #expect(lines == lines.sorted())
    }

    @Test func descriptionHasOneLinePerIssue() {
        let error = SpecValidationError(issues: [
            SpecIssue(path: "run.timeout", reason: "\"10 minutes\" is not a duration (use 90s, 10m, 1h30m or seconds)"),
            SpecIssue(path: "matrix.seeds[2]", reason: "seed 1 is listed twice", line: 19),
            SpecIssue(path: "", reason: "the spec is empty"),
        ])
        #expect(
            error.description == """
                run.timeout: "10 minutes" is not a duration (use 90s, 10m, 1h30m or seconds)
                matrix.seeds[2]: seed 1 is listed twice (line 19)
                the spec is empty
                """)
    }

    @Test func fieldIssuesCarryTheLineOfTheField() throws {
        let yaml = SpecFixtures.fullYAML(replacing: "timeout: 10m", with: "timeout: soon")
        let issue = try #require(SpecFixtures.issues(yaml).first)
        #expect(issue.path == "run.timeout")
        #expect(issue.line == SpecFixtures.line(of: "timeout:", in: yaml))
        let unknown = SpecFixtures.fullYAML(replacing: "replicas: 1", with: "replica: 1")
        #expect(SpecFixtures.issues(unknown).first?.line == SpecFixtures.line(of: "replica: 1", in: unknown))
    }

    @Test func jsonIssuesCarryLinesToo() throws {
        let json = SpecFixtures.fullJSON.replacingOccurrences(of: "\"timeout\": 600", with: "\"timeout\": -1")
        let issue = try #require(SpecFixtures.issues(json).first)
        #expect(issue.path == "run.timeout")
        #expect(issue.line == SpecFixtures.line(of: "\"timeout\"", in: json))
    }

    @Test func yamlSyntaxErrorsGiveLineAndColumn() throws {
        let yaml = SpecFixtures.fullYAML(replacing: "  timeout: 10m", with: "  timeout: [10m")
        let issues = SpecFixtures.issues(yaml)
        #expect(issues.count == 1)
        let issue = try #require(issues.first)
        #expect(issue.reason.hasPrefix("YAML syntax error at line"))
        #expect(issue.reason.contains("column"))
        #expect(issue.line != nil)

        let tab = "preprint:\n  id: x\n\ttitle: y\n"
        let tabIssue = try #require(SpecFixtures.issues(tab).first)
        #expect(tabIssue.line == 3)
        #expect(tabIssue.reason.contains("line 3, column 1"))
    }

    @Test func yamlDuplicateKeysAreRejected() throws {
        let yaml = SpecFixtures.fullYAML(replacing: "  replicas: 1", with: "  replicas: 1\n  replicas: 2")
        let issue = try #require(SpecFixtures.issues(yaml).first)
        #expect(issue.reason.contains("duplicate key 'replicas'"))
        #expect(issue.line != nil)
    }

    @Test func jsonSyntaxErrorsGiveLineAndColumn() throws {
        let json = "{\n  \"preprint\": {\n    \"id\": \"2401.01234\",\n  }\n}"
        let issue = try #require(SpecFixtures.issues(json).first)
        #expect(issue.line == 4)
        #expect(issue.reason == "JSON syntax error at line 4, column 3: expected a key in double quotes")
    }

    @Test func jsonDuplicateKeysAreReportedWithTheOtherIssues() {
        let json = SpecFixtures.fullJSON.replacingOccurrences(
            of: "\"replicas\": 1", with: "\"replicas\": 1, \"replicas\": 2"
        )
        .replacingOccurrences(of: "\"timeout\": 600", with: "\"timeout\": 0")
        let issues = SpecFixtures.issues(json)
        expectIssue(issues, path: "matrix.replicas", reason: "duplicate key 'replicas' (first at line")
        expectIssue(issues, path: "run.timeout", reason: "must be more than 0 seconds")
    }

    @Test func aliasBombsStopEarly() throws {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...7 {
            let previous = level == 1 ? "a" : "a\(level - 1)"
            yaml +=
                "a\(level): &a\(level) [*\(previous), *\(previous), *\(previous), *\(previous), *\(previous), "
                + "*\(previous), *\(previous), *\(previous), *\(previous), *\(previous)]\n"
        }
        let issue = try #require(SpecFixtures.issues(yaml).first)
        #expect(issue.reason.contains("expands to more than"))
    }

    @Test func deepNestingIsRejected() throws {
        let json = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(try #require(SpecFixtures.issues(json, format: .json).first).reason.contains("nests deeper"))
        let yaml = "a: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(try #require(SpecFixtures.issues(yaml).first).reason.contains("nests deeper"))
    }
}
