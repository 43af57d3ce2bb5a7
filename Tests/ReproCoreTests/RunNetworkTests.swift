import Foundation
import ReproCore
import Testing

/// `run.network` in the spec, and the wire fields that carry it to the lease: `JobSpec.network` and
/// `LeaseRequest.allow_network`.
@Suite("Run network")
struct RunNetworkTests {
    @Test func networkIsFalseUnlessTheSpecSaysTrue() throws {
        #expect(try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8)).run.network == false)
        #expect(try StudySpec.parse(Data(SpecFixtures.minimalYAML.utf8)).run.network == false)
        let yes = SpecFixtures.fullYAML(replacing: "max_attempts: 4", with: "max_attempts: 4\n  network: true")
        #expect(try StudySpec.parse(Data(yes.utf8)).run.network == true)
        let no = SpecFixtures.fullYAML(replacing: "max_attempts: 4", with: "max_attempts: 4\n  network: false")
        #expect(try StudySpec.parse(Data(no.utf8)).run.network == false)
        // `network:` with nothing after it is left out, like every optional key.
        let empty = SpecFixtures.fullYAML(replacing: "max_attempts: 4", with: "max_attempts: 4\n  network:")
        #expect(try StudySpec.parse(Data(empty.utf8)).run.network == false)
        let json = SpecFixtures.fullJSON.replacingOccurrences(
            of: "\"max_attempts\": 4", with: "\"max_attempts\": 4, \"network\": true")
        #expect(json != SpecFixtures.fullJSON)
        #expect(try StudySpec.parse(Data(json.utf8)).run.network == true)
    }

    /// A spec without the key keeps the canonical bytes, and so the sha256, it had before the key
    /// existed: resubmitting it still finds the study submitted then.
    @Test func canonicalJSONNamesNetworkOnlyWhenTrue() throws {
        let plain = try StudySpec.parse(Data(SpecFixtures.fullYAML.utf8))
        #expect(!String(decoding: plain.canonicalJSON(), as: UTF8.self).contains("network"))
        let explicitFalse = try StudySpec.parse(
            Data(SpecFixtures.fullYAML(replacing: "max_attempts: 4", with: "max_attempts: 4\n  network: false").utf8))
        #expect(explicitFalse.sha256Hex == plain.sha256Hex)

        let networked = try StudySpec.parse(
            Data(SpecFixtures.fullYAML(replacing: "max_attempts: 4", with: "max_attempts: 4\n  network: true").utf8))
        #expect(String(decoding: networked.canonicalJSON(), as: UTF8.self).contains("\"network\":true"))
        #expect(networked.sha256Hex != plain.sha256Hex)
        // The stored form parses back to the same spec, as the coordinator reads it for reports.
        let stored = try StudySpec.parse(networked.canonicalJSON(), format: .json)
        #expect(stored == networked)
        #expect(try JSONDecoder().decode(StudySpec.self, from: networked.canonicalJSON()) == networked)
    }

    static let rejections: [RejectionCase] = [
        RejectionCase(
            old: "max_attempts: 4", new: "max_attempts: 4\n  network: \"true\"", path: "run.network",
            reason: "expected true or false, got \"true\""),
        RejectionCase(
            old: "max_attempts: 4", new: "max_attempts: 4\n  network: 1", path: "run.network",
            reason: "expected true or false, got 1"),
        RejectionCase(
            old: "max_attempts: 4", new: "max_attempts: 4\n  network: [true]", path: "run.network",
            reason: "expected true or false, got a list"),
        RejectionCase(
            old: "max_attempts: 4", new: "max_attempts: 4\n  netwrok: true", path: "run.netwrok",
            reason: "did you mean 'network'?"),
    ]

    @Test(arguments: rejections)
    func networkMustBeABoolean(_ rejection: RejectionCase) {
        rejection.check()
    }

    @Test func jsonSpecWithAStringForNetworkIsRefused() {
        let json = SpecFixtures.fullJSON.replacingOccurrences(
            of: "\"max_attempts\": 4", with: "\"max_attempts\": 4, \"network\": \"yes\"")
        let issues = SpecFixtures.issues(json)
        expectIssue(issues, path: "run.network", reason: "expected true or false, got \"yes\"")
        #expect(issues.count == 1)
    }

    /// Jobs stored before the field, and lease requests of workers before it, decode as "no network".
    @Test func wireFieldsDefaultToFalseWhenMissing() throws {
        let decoder = WireCoding.decoder()
        let oldJob = #"{"code":{"bundle_sha256":"ab"},"timeout_seconds":60,"memory_bytes":1,"cpus":1,"gpus":0}"#
        #expect(try decoder.decode(JobSpec.self, from: Data(oldJob.utf8)).network == false)
        let job = JobSpec(
            code: CodeReference(bundleSHA256: "ab"), requirements: nil, timeoutSeconds: 60, memoryBytes: 1, cpus: 1,
            gpus: 0, network: true)
        let encoded = try WireCoding.encoder().encode(job)
        #expect(String(decoding: encoded, as: UTF8.self).contains("\"network\":true"))
        #expect(try decoder.decode(JobSpec.self, from: encoded) == job)

        #expect(try decoder.decode(LeaseRequest.self, from: Data(#"{"max":1,"wait":0}"#.utf8)).allowNetwork == false)
        let allowing = try decoder.decode(
            LeaseRequest.self, from: Data(#"{"max":1,"wait":0,"allow_network":true}"#.utf8))
        #expect(allowing.allowNetwork == true)
        let request = try WireCoding.encoder().encode(LeaseRequest(max: 2, wait: 1, allowNetwork: true))
        #expect(String(decoding: request, as: UTF8.self).contains("\"allow_network\":true"))
    }
}
