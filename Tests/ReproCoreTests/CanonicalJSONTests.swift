import Foundation
import ReproCore
import Testing

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test func canonicalJSONParsesBackToTheSameSpec() throws {
        for text in [SpecFixtures.fullYAML, SpecFixtures.minimalYAML] {
            let spec = try StudySpec.parse(Data(text.utf8))
            let reparsed = try StudySpec.parse(spec.canonicalJSON())
            #expect(reparsed == spec)
            #expect(reparsed.canonicalJSON() == spec.canonicalJSON())
            #expect(reparsed.sha256Hex == spec.sha256Hex)
        }
    }

    @Test func codableDecodingReadsWhatEncodingWrote() throws {
        let spec = SpecFixtures.fullSpec
        let decoded = try JSONDecoder().decode(StudySpec.self, from: spec.canonicalJSON())
        #expect(decoded == spec)
        let plain = try JSONEncoder().encode(spec)
        #expect(try StudySpec.parse(plain) == spec)
    }

    @Test func encodingUsesTheSpecFileShape() throws {
        let json = try #require(
            try JSONSerialization.jsonObject(with: SpecFixtures.fullSpec.canonicalJSON()) as? [String: Any])
        let run = try #require(json["run"] as? [String: Any])
        #expect(run["timeout"] as? Int == 600)
        #expect(run["max_attempts"] as? Int == 4)
        #expect((run["resources"] as? [String: Any])?["memory"] as? Int == 2 << 30)
        #expect((json["code"] as? [String: Any])?["bundle"] as? String == SpecFixtures.bundle)
        let configurations = (json["matrix"] as? [String: Any])?["configurations"] as? [String: [String: String]]
        #expect(configurations == ["small": ["hidden": "32"], "large": ["hidden": "128"]])
    }

    @Test func keysAreSortedAndOutputIsStable() throws {
        let text = String(decoding: SpecFixtures.fullSpec.canonicalJSON(), as: UTF8.self)
        #expect(text.hasPrefix("{\"claims\":"))
        #expect(!text.contains("\n"))
        #expect(text.range(of: "\"code\"")!.lowerBound < text.range(of: "\"environment\"")!.lowerBound)
        // Configurations given in another order encode identically.
        var shuffled = SpecFixtures.fullSpec
        shuffled.matrix = MatrixSpec(
            seeds: shuffled.matrix.seeds, datasets: shuffled.matrix.datasets,
            configurations: shuffled.matrix.configurations.reversed(), replicas: 1)
        #expect(shuffled.canonicalJSON() == SpecFixtures.fullSpec.canonicalJSON())
    }

    @Test func digestIsLowercaseHexOfTheCanonicalBytes() {
        let digest = SpecFixtures.fullSpec.sha256Hex
        #expect(digest.count == 64)
        #expect(digest.allSatisfy { "0123456789abcdef".contains($0) })
        var changed = SpecFixtures.fullSpec
        changed.matrix.replicas = 2
        #expect(changed.sha256Hex != digest)
    }
}
