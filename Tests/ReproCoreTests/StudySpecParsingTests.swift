import Foundation
import ReproCore
import Testing

@Suite("Parsing valid specs")
struct StudySpecParsingTests {
    @Test func fullYAMLParsesToTheExpectedSpec() throws {
        let spec = try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8))
        #expect(spec == SpecFixtures.fullSpec)
        #expect(spec.matrix.configurations.map(\.name) == ["large", "small"])
    }

    @Test func jsonEquivalentParsesToTheSameSpec() throws {
        let yaml = try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8))
        let json = try StudySpec.parse(Data(SpecFixtures.fullJSON.utf8))
        #expect(json == yaml)
    }

    @Test func formatIsDetectedFromTheFirstNonBlankByte() {
        #expect(SpecFormat.detect(Array("  \n {\"a\": 1}".utf8)) == .json)
        #expect(SpecFormat.detect(Array("\u{FEFF}{}".utf8)) == .json)
        #expect(SpecFormat.detect(Array("preprint:\n".utf8)) == .yaml)
        #expect(SpecFormat.detect(Array("# {comment}\na: 1".utf8)) == .yaml)
    }

    @Test func explicitFormatOverridesDetection() {
        // Flow-style YAML that is not JSON: read as JSON it fails, as YAML it parses.
        let flow = "{preprint: {id: \"2401.01234\", title: T}}"
        #expect(SpecFixtures.issues(flow, format: .json).first?.reason.contains("JSON syntax error") == true)
        let yamlIssues = SpecFixtures.issues(flow, format: .yaml)
        #expect(!yamlIssues.contains { $0.reason.contains("syntax") })
        expectIssue(yamlIssues, path: "code", reason: "missing required key 'code'")
    }

    @Test func minimalSpecGetsDefaults() throws {
        let spec = try StudySpec.parse(Data(SpecFixtures.minimalYAML.utf8))
        #expect(spec.environment == nil)
        #expect(spec.claims.isEmpty)
        #expect(spec.preprint.authors.isEmpty && spec.preprint.funding.isEmpty && spec.preprint.field == nil)
        #expect(spec.run.timeoutSeconds == 90)
        #expect(spec.run.maxAttempts == 3)
        #expect(spec.run.resources == ResourceSpec(cpus: 1, memoryBytes: 2 << 30, gpus: 0))
        #expect(spec.matrix.replicas == 1)
        #expect(spec.matrix.configurations.isEmpty)
        #expect(
            spec.code
                == .git(url: "https://github.com/example/train.git", commit: "0123456789abcdef0123456789abcdef01234567")
        )
    }

    @Test func seedRangeExpandsToConsecutiveSeeds() throws {
        let yaml = SpecFixtures.fullYAML(replacing: "seeds: [0, 1, 2, 3, 4]", with: "seeds: {from: 10, count: 3}")
        #expect(try StudySpec.parse(Data(yaml.utf8)).matrix.seeds == [10, 11, 12])
    }

    @Test(arguments: [
        "arXiv:2401.01234", "2401.01234v2", "arxiv:2401.12345", "hep-th/9901001", "math.GT/0309136v1",
        "10.48550/arXiv.2401.01234", "10.1000/xyz(123)",
    ])
    func acceptedPreprintIdentifiers(id: String) throws {
        #expect(PreprintSpec.isValidIdentifier(id))
        let yaml = SpecFixtures.fullYAML(replacing: "id: \"arXiv:2401.01234\"", with: "id: \"\(id)\"")
        #expect(try StudySpec.parse(Data(yaml.utf8)).preprint.id == id)
    }

    @Test(arguments: [
        "https://github.com/a/b.git", "ssh://git@example.org/a/b", "git://example.org/a.git",
        "git@github.com:a/b.git",
    ])
    func acceptedGitURLs(url: String) throws {
        let yaml = SpecFixtures.minimalYAML.replacingOccurrences(of: "https://github.com/example/train.git", with: url)
        guard case .git(let parsed, _) = try StudySpec.parse(Data(yaml.utf8)).code else {
            Issue.record("expected git code")
            return
        }
        #expect(parsed == url)
    }

    @Test func gitCommitIsStoredLowercase() throws {
        let yaml = SpecFixtures.minimalYAML.replacingOccurrences(
            of: "0123456789abcdef0123456789abcdef01234567", with: "0123456789ABCDEF0123456789ABCDEF01234567")
        #expect(
            try StudySpec.parse(Data(yaml.utf8)).code
                == .git(url: "https://github.com/example/train.git", commit: "0123456789abcdef0123456789abcdef01234567")
        )
    }

    @Test func containerEnvironment() throws {
        let yaml = SpecFixtures.fullYAML(
            replacing: "  python:\n    requirements: requirements.txt",
            with: "  container: {image: \"python:3.12-slim\"}")
        #expect(try StudySpec.parse(Data(yaml.utf8)).environment == .container(image: "python:3.12-slim"))
    }

    @Test func clientContextAcceptsALocalBundleDirectory() throws {
        let yaml = SpecFixtures.fullYAML(replacing: "bundle: \"\(SpecFixtures.bundle)\"", with: "bundle: ./train")
        let spec = try StudySpec.parse(Data(yaml.utf8), context: .client)
        #expect(spec.code == .bundle("./train"))
        let digest = String(repeating: "0f", count: 32)
        #expect(spec.withBundle(digest).code == .bundle("sha256:" + digest))
        #expect(spec.withBundle("sha256:" + digest).code == .bundle("sha256:" + digest))
        // The uploaded form is what the coordinator accepts.
        let uploaded = String(decoding: spec.withBundle(digest).canonicalJSON(), as: UTF8.self)
        #expect(throws: Never.self) { try StudySpec.parse(Data(uploaded.utf8), context: .server) }
    }

    @Test func unquotedYAMLScalarsAreTakenAsWrittenWhereNamesAreExpected() throws {
        // YAML 1.1 reads `no` as false and `1.10` as a number; as names they mean the text.
        let yaml = SpecFixtures.fullYAML(replacing: "[digits, wine, breast_cancer]", with: "[digits, wine, no]")
            .replacingOccurrences(of: "field: \"cs.LG\"", with: "field: 1.10")
        let spec = try StudySpec.parse(Data(yaml.utf8))
        #expect(spec.matrix.datasets == ["digits", "wine", "no"])
        #expect(spec.preprint.field == "1.10")
    }

    @Test func yamlMergeKeysShareConfigurationParameters() throws {
        let yaml = SpecFixtures.fullYAML(
            replacing: "    small: {hidden: 32}\n    large: {hidden: 128}",
            with: "    small: &base {hidden: 32, lr: 0.01}\n    large: {<<: *base, hidden: 128}"
        ).replacingOccurrences(of: "\"--hidden={hidden}\"", with: "\"--hidden={hidden}\", \"--lr={lr}\"")
        let spec = try StudySpec.parse(Data(yaml.utf8))
        #expect(spec.matrix.configuration(named: "large")?.parameters == ["hidden": "128", "lr": "0.01"])
        #expect(spec.matrix.configuration(named: "small")?.parameters == ["hidden": "32", "lr": "0.01"])
    }

    @Test func placeholdersMayBePartOfALargerArgument() throws {
        let yaml = SpecFixtures.minimalYAML
        #expect(try StudySpec.parse(Data(yaml.utf8)).run.command.contains("--seed={seed}"))
    }

    @Test func durationAndSizeForms() throws {
        for (timeout, seconds) in [("90s", 90), ("1h30m", 5400), ("3600", 3600), ("7d", 604_800)] {
            let yaml = SpecFixtures.fullYAML(replacing: "timeout: 10m", with: "timeout: \(timeout)")
            #expect(try StudySpec.parse(Data(yaml.utf8)).run.timeoutSeconds == seconds)
        }
        for (memory, bytes) in [("512MiB", Int64(512) << 20), ("1G", 1_000_000_000), ("4294967296", 4 << 30)] {
            let yaml = SpecFixtures.fullYAML(replacing: "memory: 2GiB", with: "memory: \(memory)")
            #expect(try StudySpec.parse(Data(yaml.utf8)).run.resources.memoryBytes == bytes)
        }
    }
}
