import Crypto
import Foundation
import ReproCore
import Testing

@Suite("Job manifest and signing keyring")
struct JobManifestTests {
    static func spec(_ yaml: String = SpecFixtures.fullYAML) throws -> StudySpec {
        try StudySpec.parse(Data(yaml.utf8), format: .yaml)
    }

    @Test("the canonical encoding is stable, sorted, and rebuilds every task's command")
    func canonicalAndArguments() throws {
        let spec = try Self.spec()
        let id = UUID()
        let manifest = JobManifest(studyID: id, spec: spec)
        #expect(manifest.canonicalJSON() == JobManifest(studyID: id, spec: spec).canonicalJSON())
        let decoded = try JSONDecoder().decode(JobManifest.self, from: manifest.canonicalJSON())
        #expect(decoded.canonicalJSON() == manifest.canonicalJSON(), "decode → encode gives the signed bytes back")
        #expect(manifest.studyID == id.uuidString.lowercased())
        for task in spec.expand() {
            #expect(
                manifest.arguments(seed: task.seed, dataset: task.dataset, configuration: task.configuration)
                    == task.arguments)
        }
        #expect(manifest.arguments(seed: 0, dataset: "imagenet", configuration: "small") == nil)
        #expect(manifest.arguments(seed: 0, dataset: "digits", configuration: "huge") == nil)
        #expect(manifest.arguments(seed: 0, dataset: "digits", configuration: nil) == nil)
    }

    @Test("the approval binding covers code, requirements, command, environment and network, not seeds or datasets")
    func binding() throws {
        let base = JobManifest(studyID: UUID(), spec: try Self.spec()).binding.sha256Hex
        let moreSeeds = try Self.spec(
            SpecFixtures.fullYAML.replacingOccurrences(of: "seeds: [0, 1, 2, 3, 4]", with: "seeds: [7, 8]"))
        #expect(JobManifest(studyID: UUID(), spec: moreSeeds).binding.sha256Hex == base)
        let otherBundle = try Self.spec(
            SpecFixtures.fullYAML.replacingOccurrences(
                of: String(repeating: "ab", count: 32), with: String(repeating: "cd", count: 32)))
        #expect(JobManifest(studyID: UUID(), spec: otherBundle).binding.sha256Hex != base)
        let otherCommand = try Self.spec(
            SpecFixtures.fullYAML.replacingOccurrences(of: "\"train.py\"", with: "\"evil.py\""))
        #expect(JobManifest(studyID: UUID(), spec: otherCommand).binding.sha256Hex != base)
        let network = try Self.spec(
            SpecFixtures.fullYAML.replacingOccurrences(of: "max_attempts: 4", with: "max_attempts: 4\n  network: true"))
        #expect(JobManifest(studyID: UUID(), spec: network).binding.sha256Hex != base)
    }

    @Test("a signature verifies only the exact manifest, and only with the key that made it")
    func signatures() throws {
        let key = Curve25519.Signing.PrivateKey()
        let id = SigningKeyring.keyID(of: key.publicKey)
        #expect(id.count == 16)
        var manifest = JobManifest(studyID: UUID(), spec: try Self.spec())
        let signature = ManifestSignature(
            signature: try key.signature(for: manifest.canonicalJSON()).base64EncodedString(), keyID: id)
        #expect(signature.verifies(manifest, with: [id: key.publicKey]))
        #expect(!signature.verifies(manifest, with: [id: Curve25519.Signing.PrivateKey().publicKey]))
        #expect(!signature.verifies(manifest, with: [:]))
        manifest.command[0] = "sh"
        #expect(!signature.verifies(manifest, with: [id: key.publicKey]))
    }

    @Test("a keyring extends pins only through endorsements by pinned keys")
    func endorsements() throws {
        let a = Curve25519.Signing.PrivateKey()
        let b = Curve25519.Signing.PrivateKey()
        let c = Curve25519.Signing.PrivateKey()
        func entry(_ key: Curve25519.Signing.PrivateKey, endorsedBy: Curve25519.Signing.PrivateKey?) throws
            -> SigningKeyring.Entry
        {
            try SigningKeyring.Entry(key: key.publicKey, createdAt: Date(), endorser: endorsedBy)
        }
        let idA = SigningKeyring.keyID(of: a.publicKey)
        let chain = SigningKeyring(keys: [
            try entry(a, endorsedBy: nil), try entry(b, endorsedBy: a), try entry(c, endorsedBy: b),
        ])
        #expect(Set(chain.extending([idA: a.publicKey]).keys) == Set(chain.keys.map(\.keyID)))
        // B claims an endorsement by A that A never made (signed by C instead).
        var forged = try entry(b, endorsedBy: c)
        forged.endorsedBy = idA
        let impostor = SigningKeyring(keys: [forged])
        #expect(impostor.extending([idA: a.publicKey]).keys.sorted() == [idA])
    }
}
