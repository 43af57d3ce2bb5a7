import Foundation
import Testing
import Yams

@testable import ReproCore
@testable import ReproCoordinator

/// The OpenAPI document states what the server enforces (issue 11): the study spec's single-field rules
/// as patterns and ranges that agree with the Swift validation, `POST /v1/plan`'s required body and
/// claim, and the problem statuses of every operation. The fuzz step relies on these: a schema-valid
/// request the server refuses fails it.
@Suite("OpenAPI contract")
struct OpenAPIContractTests {
    /// Read on each use: `[String: Any]` is not Sendable, so it cannot be a shared constant.
    static var document: [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/ReproCoordinator/Resources/openapi.yaml")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return ((try? Yams.load(yaml: text)) as? [String: Any]) ?? [:]
    }

    static func schema(_ name: String) throws -> [String: Any] {
        let components = try #require(document["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        return try #require(schemas[name] as? [String: Any], "no schema \(name)")
    }

    /// The value at a path of keys in a schema (`["properties", "run", …]`).
    static func value(_ schema: [String: Any], _ path: [String]) throws -> Any {
        var current: Any = schema
        for key in path {
            if let list = current as? [Any], let index = Int(key) {
                current = list[index]
            } else {
                current = try #require((current as? [String: Any])?[key], "no \(key) in \(path)")
            }
        }
        return current
    }

    /// JSON Schema patterns are searched for, not anchored; the samples have no trailing line break, where
    /// ICU's `$` differs from ECMA-262's.
    static func matches(_ pattern: String, _ text: String) throws -> Bool {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func pattern(_ schema: [String: Any], _ path: [String]) throws -> String {
        try #require(try value(schema, path) as? String)
    }

    static func integer(_ schema: [String: Any], _ path: [String]) throws -> Int {
        try #require(try value(schema, path) as? Int, "\(path)")
    }

    @Test("the spec's name, metric, git, path, duration and size patterns accept exactly what the server does")
    func patternsAgreeWithTheServer() throws {
        let name = try Self.pattern(try Self.schema("SpecName"), ["pattern"])
        for sample in ["digits", "a.b-c_d", "", String(repeating: "x", count: 64), String(repeating: "x", count: 65),
            "a b", "ü", "a/b", "A9", "{seed}", "-"]
        {
            #expect(try Self.matches(name, sample) == SpecDecoder.isValidName(sample), "name \(sample)")
        }
        let metric = try Self.pattern(try Self.schema("MetricName"), ["pattern"])
        for sample in ["accuracy", "_x", "9a", "a-b.c", "", String(repeating: "a", count: 64),
            String(repeating: "a", count: 65), "a b", ".a", "é"]
        {
            #expect(try Self.matches(metric, sample) == MetricName.isValid(sample), "metric \(sample)")
        }
        let preprintID = try Self.pattern(try Self.schema("SpecPreprintID"), ["pattern"])
        for sample in ["arXiv:2401.01234", "2401.01234v2", "ARXIV:2401.12345", "hep-th/9901001", "math.GT/0309136v1",
            "10.48550/arXiv.2401.01234", "10.1000/xyz(123)", "doi:10.1000/x", "10.12/abc", "2401.123", "hep-th/99010",
            "https://arxiv.org/abs/2401.01234", "10.1000/has space"]
        {
            #expect(try Self.matches(preprintID, sample) == PreprintSpec.isValidIdentifier(sample), "preprint id \(sample)")
        }
        let git = try Self.schema("SpecGit")
        let commit = try Self.pattern(git, ["properties", "commit", "pattern"])
        for sample in [String(repeating: "a", count: 40), String(repeating: "A", count: 40), String(repeating: "a", count: 39),
            String(repeating: "a", count: 41), String(repeating: "g", count: 40), "main"]
        {
            #expect(try Self.matches(commit, sample) == SpecDecoder.isFullCommitID(sample), "commit \(sample)")
        }
        let url = try Self.pattern(git, ["properties", "url", "pattern"])
        for sample in ["https://github.com/a/b", "HTTPS://x/y", "http://x/y", "ssh://git@host/x", "git://h/x",
            "git@github.com:a/b.git", "/local/path", "file:///x", "https:///x", "https://", "git@host:a://b",
            "https://a b/c", "user@host:", "ftp://h/x", "a@b:c"]
        {
            #expect(try Self.matches(url, sample) == SpecDecoder.isAcceptedGitURL(sample), "url \(sample)")
        }
        let requirements = try Self.pattern(
            try Self.schema("SpecEnvironment"), ["oneOf", "0", "properties", "python", "properties", "requirements", "pattern"])
        for sample in ["requirements.txt", "env/req.txt", "/etc/passwd", "~/r.txt", "../r.txt", "a/../r.txt", "a/..",
            "..a/r.txt", "a..b", " ", "", "a//r.txt"]
        {
            let server = !sample.trimmingWhitespace().isEmpty && SpecDecoder.isPathInsideCode(sample)
            #expect(try Self.matches(requirements, sample) == server, "requirements \(sample)")
        }
        let run = try Self.schema("SpecRun")
        let timeout = try Self.pattern(run, ["properties", "timeout", "anyOf", "1", "pattern"])
        for sample in ["90s", "10m", "1h30m", "2d", "1d2h3m4s", "300", " 5m ", "\r\n5m\r\n", "30m1h", "1h30", "", "m", "5x", "1.5h", "h1"] {
            #expect(try Self.matches(timeout, sample) == (DurationValue(parsing: sample) != nil), "timeout \(sample)")
        }
        let memory = try Self.pattern(run, ["properties", "resources", "properties", "memory", "anyOf", "1", "pattern"])
        for sample in ["2GiB", "512MiB", "1.5G", "1G", "2048", "1 gib", "2GiB\r\n", "16mb", "1TB", "1.G", ".5G", "1.2.3G", "2 GiBs", "", "G",
            "1KiB", "1kI"]
        {
            #expect(try Self.matches(memory, sample) == (ByteSize(parsing: sample) != nil), "memory \(sample)")
        }
        let parameter = try Self.pattern(
            try Self.schema("SpecMatrix"),
            ["properties", "configurations", "additionalProperties", "anyOf", "1", "propertyNames", "pattern"])
        for sample in ["hidden", "_lr", "lr2", "2lr", "seed", "dataset", "config", "seeds", "a-b", ""] {
            let server = CommandTemplate.isIdentifier(Substring(sample)) && !StudySpec.builtInPlaceholders.contains(sample)
            #expect(try Self.matches(parameter, sample) == server, "parameter \(sample)")
        }
    }

    @Test("the spec's ranges and lengths are the server's constants")
    func rangesAreTheServers() throws {
        let run = try Self.schema("SpecRun")
        #expect(try Self.integer(run, ["properties", "timeout", "anyOf", "0", "minimum"]) == RunSpec.timeoutRange.lowerBound)
        #expect(try Self.integer(run, ["properties", "timeout", "anyOf", "0", "maximum"]) == RunSpec.timeoutRange.upperBound)
        #expect(try Self.integer(run, ["properties", "max_attempts", "maximum"]) == RunSpec.maxAttemptsRange.upperBound)
        let resources = ["properties", "resources", "properties"]
        #expect(try Self.integer(run, resources + ["cpus", "minimum"]) == ResourceSpec.cpuRange.lowerBound)
        #expect(try Self.integer(run, resources + ["cpus", "maximum"]) == ResourceSpec.cpuRange.upperBound)
        #expect(try Self.integer(run, resources + ["gpus", "minimum"]) == ResourceSpec.gpuRange.lowerBound)
        #expect(try Self.integer(run, resources + ["gpus", "maximum"]) == ResourceSpec.gpuRange.upperBound)
        #expect(try Self.integer(run, resources + ["memory", "anyOf", "0", "minimum"]) == Int(ResourceSpec.memoryRange.lowerBound))
        #expect(try Self.integer(run, resources + ["memory", "anyOf", "0", "maximum"]) == Int(ResourceSpec.memoryRange.upperBound))
        #expect(try Self.integer(run, ["properties", "command", "minItems"]) == 1)
        let matrix = try Self.schema("SpecMatrix")
        #expect(try Self.integer(matrix, ["properties", "replicas", "maximum"]) == MatrixSpec.replicaRange.upperBound)
        #expect(try Self.integer(matrix, ["properties", "seeds", "oneOf", "1", "properties", "count", "maximum"])
            == SpecLimits.default.maxTasks)
        #expect(try Self.integer(matrix, ["properties", "seeds", "oneOf", "0", "items", "maximum"])
            == Int(MatrixSpec.seedRange.upperBound))
        #expect(try Self.integer(run, ["properties", "command", "items", "maxLength"]) == SpecDecoder.maxTextLength)
        #expect(try Self.integer(run, ["properties", "command", "prefixItems", "0", "maxLength"]) == SpecDecoder.maxTextLength)
        let preprint = try Self.schema("SpecPreprint")
        #expect(try Self.integer(preprint, ["properties", "title", "maxLength"]) == PreprintLimits.title)
        #expect(try Self.integer(preprint, ["properties", "authors", "items", "maxLength"]) == PreprintLimits.name)
        let result = try Self.schema("TaskResult")
        #expect(try Self.integer(result, ["properties", "hardware_class", "maxLength"]) == WorkerController.maxHardwareClassLength)
        // Every object of the spec refuses unknown keys, as the server does.
        for name in ["StudySpec", "PlanSpec", "SpecPreprint", "SpecGit", "SpecRun", "SpecMatrix", "SpecClaim"] {
            #expect(try Self.schema(name)["additionalProperties"] as? Bool == false, "\(name)")
        }
        for branch in try #require(try Self.schema("SpecEnvironment")["oneOf"] as? [[String: Any]]) {
            #expect(branch["additionalProperties"] as? Bool == false)
        }
    }

    @Test("POST /v1/plan needs a body with at least one claim")
    func planNeedsABodyWithAClaim() throws {
        let paths = try #require(Self.document["paths"] as? [String: Any])
        let plan = try #require((paths["/v1/plan"] as? [String: Any])?["post"] as? [String: Any])
        let body = try #require(plan["requestBody"] as? [String: Any])
        #expect(body["required"] as? Bool == true)
        let spec = try Self.schema("PlanSpec")
        #expect((spec["required"] as? [String])?.contains("claims") == true)
        #expect(try Self.integer(spec, ["properties", "claims", "minItems"]) == 1)
    }

    @Test("every guarded operation lists 401 and 403, and 400 when it reads parameters or a body")
    func problemResponsesPerOperation() throws {
        let paths = try #require(Self.document["paths"] as? [String: Any])
        var checked = 0
        for (path, item) in paths {
            for (method, value) in try #require(item as? [String: Any]) {
                let operation = try #require(value as? [String: Any])
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
                let roles = operation["x-roles"] as? [String] ?? []
                let reads = operation["parameters"] != nil || operation["requestBody"] != nil
                var expected: [String] = roles.isEmpty ? [] : ["401", "403"]
                if reads && !roles.isEmpty { expected.append("400") }
                for status in expected {
                    let response = try #require(responses[status] as? [String: Any], "\(method) \(path) lacks \(status)")
                    #expect(response["$ref"] as? String != "#/components/responses/Problem", "\(method) \(path) \(status)")
                }
                checked += 1
            }
        }
        #expect(checked > 40)
    }
}
