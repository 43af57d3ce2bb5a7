import Foundation
import ReproCore
import Testing

@testable import ReproCoordinator

/// The moderation rules as data, without a database.
@Suite("Moderation decisions")
struct ModerationDecisionTests {
    @Test("submission: trust first, then an earlier moderator approval, else pending")
    func submission() {
        let earlier = UUID()
        #expect(
            ModerationDecision.atSubmission(submitterTrusted: true, earlierModeratorApproval: earlier)
                == .approved(.trustedSubmitter, via: nil))
        #expect(
            ModerationDecision.atSubmission(submitterTrusted: false, earlierModeratorApproval: earlier)
                == .approved(.earlierApproval, via: earlier))
        let pending = ModerationDecision.atSubmission(submitterTrusted: false, earlierModeratorApproval: nil)
        #expect(pending == .pending)
        #expect(pending.studyState == .pendingReview)
        #expect(pending.taskState == .held)
    }

    @Test("approve and reject apply only to pending studies; rejection needs a reason")
    func actions() throws {
        let approve = try ModerationDecision.plan(.approve(note: "  ok "), studyState: .pendingReview)
        #expect(
            approve
                == .init(studyState: .running, taskState: .queued, auditAction: "approve", reason: "ok", signs: true))
        let reject = try ModerationDecision.plan(.reject(reason: "uses the network"), studyState: .pendingReview)
        #expect(reject.studyState == .rejected && reject.taskState == .cancelled && !reject.signs)
        for state in [StudyState.running, .completed, .cancelled, .rejected] {
            #expect(throws: Problem.self) { try ModerationDecision.plan(.approve(note: nil), studyState: state) }
            #expect(throws: Problem.self) { try ModerationDecision.plan(.reject(reason: "x"), studyState: state) }
        }
        #expect(throws: Problem.self) {
            try ModerationDecision.plan(.reject(reason: " \n"), studyState: .pendingReview)
        }
        #expect(throws: Problem.self) {
            try ModerationDecision.plan(
                .reject(reason: String(repeating: "x", count: 2001)), studyState: .pendingReview)
        }
    }
}

/// The signing key file and its keyring, without a database.
@Suite("Signing key store")
struct SigningKeyStoreTests {
    static func store() -> (SigningKeyStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signing-\(UUID().uuidString)")
        return (SigningKeyStore(keyFile: directory.appendingPathComponent("signing.key")), directory)
    }

    @Test("the first start makes a 0600 key and lists it; a key readable by others is refused")
    func createsPrivateKey() throws {
        let (store, directory) = Self.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let id = try store.prepare()
        #expect(try store.prepare() == id, "a second start keeps the key")
        let mode = try FileManager.default.attributesOfItem(atPath: store.keyFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try store.readKeyring().keys.map(\.keyID) == [id])
        chmod(store.keyFile.path, 0o644)
        #expect(throws: CoordinatorStartupError.self) { try store.prepare() }
    }

    @Test("rotation signs with a new key, keeps the old one verifiable, and the old key endorses the new")
    func rotation() throws {
        let (store, directory) = Self.store()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try store.prepare()
        let spec = StudySpec(
            preprint: PreprintSpec(id: "arXiv:2401.01234", title: "t"),
            code: .bundle("sha256:" + String(repeating: "ab", count: 32)),
            run: RunSpec(command: ["python3", "train.py"], timeoutSeconds: 60),
            matrix: MatrixSpec(seeds: [1], datasets: ["d"]))
        let old = JobManifest(studyID: UUID(), spec: spec)
        let oldSignature = try store.sign(old)
        #expect(oldSignature.keyID == first)

        let rotated = try store.rotate()
        #expect(rotated.old == first && rotated.new != first)
        let keyring = try store.readKeyring()
        #expect(keyring.keys.map(\.keyID) == [first, rotated.new])
        #expect(
            oldSignature.verifies(old, with: keyring.publicKeys), "a study signed before the rotation stays verifiable")
        let newSignature = try store.sign(JobManifest(studyID: UUID(), spec: spec))
        #expect(newSignature.keyID == rotated.new)
        // A worker that pinned only the first key accepts the new one through the endorsement.
        let pinnedFirst = keyring.publicKeys.filter { $0.key == first }
        #expect(Set(keyring.extending(pinnedFirst).keys) == [first, rotated.new])
        let mode = try FileManager.default.attributesOfItem(atPath: store.keyFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
