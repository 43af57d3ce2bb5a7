import Crypto
import Foundation
import ReproCore
import Testing

@testable import ReproCoordinator

/// Moderation against a real PostgreSQL: what an untrusted researcher's study may do before and after
/// review, approval bound to what was reviewed, and the audit log.
@Suite("Moderation", .serialized)
struct ModerationTests {
    /// An untrusted researcher, a moderator, a worker and a pending study of 6 tasks.
    struct Setup {
        var researcher: String
        var researcherID: UUID
        var moderator: String
        var worker: UUID
        var bundle: String
        var study: StudyCreated
    }

    static func setup(_ harness: CoordinatorHarness) async throws -> Setup {
        let researcher = try await harness.account([.researcher], name: "untrusted", trusted: false)
        let moderator = try await harness.key(.moderator, name: "mod")
        let worker = try await harness.worker().workerID
        let bundle = try await harness.bundle(researcher: researcher.key)
        let study = try await harness.submit(CoordinatorHarness.spec(bundle: bundle), key: researcher.key)
        return Setup(
            researcher: researcher.key, researcherID: researcher.accountID, moderator: moderator, worker: worker,
            bundle: bundle, study: study)
    }

    static func lease(_ harness: CoordinatorHarness, _ worker: UUID) async throws -> [TaskLease] {
        try await harness.services.queue.lease(worker: worker, max: 50, memoryBytes: 8 << 30, gpus: 0)
    }

    @Test("an untrusted researcher's study is pending and none of its tasks is leased; approval signs and queues them")
    func pendingThenApproved() async throws {
        try await CoordinatorHarness.run { harness in
            let s = try await Self.setup(harness)
            #expect(s.study.state == .pendingReview)
            #expect(try await Self.lease(harness, s.worker).isEmpty, "a pending study's task was leased")
            let pending: StudyStatus = try await harness.call(.get, "/v1/studies/\(s.study.id)", key: s.researcher)
            #expect(pending.state == .pendingReview)
            #expect(pending.tasks.held == 6)
            #expect(!pending.isFinished)
            let queue: ReviewList = try await harness.call(.get, "/v1/reviews", key: s.moderator)
            #expect(queue.studies.map(\.studyID) == [s.study.id])

            let approved: StudyStatus = try await harness.call(
                .post, "/v1/reviews/\(s.study.id)/approve", key: s.moderator,
                json: ApproveRequest(reason: "looked fine"))
            #expect(approved.state == .running)
            #expect(approved.review?.approval == .moderator)
            let leases = try await Self.lease(harness, s.worker)
            #expect(leases.count == 6)
            // The lease carries the manifest and a signature that verifies with the published key.
            let keyring: SigningKeyring = try await harness.call(.get, "/v1/signing-keys", key: nil)
            for lease in leases {
                let manifest = try #require(lease.manifest)
                let signature = try #require(lease.signature)
                #expect(signature.verifies(manifest, with: keyring.publicKeys))
                #expect(manifest.job == lease.job)
                // The worker rebuilds the task's command from the signed manifest; the coordinator builds none
                // that it would not send (decision 0020).
                #expect(lease.arguments.isEmpty)
                let command = try #require(
                    manifest.arguments(seed: lease.seed, dataset: lease.dataset, configuration: lease.configuration))
                #expect(command.starts(with: ["python3", "train.py"]) && command.contains("\(lease.seed)")
                    && command.contains(lease.dataset))
            }
            // Deciding twice is a conflict, and the researcher cannot approve their own study.
            let again = try await harness.request(.post, "/v1/reviews/\(s.study.id)/approve", key: s.moderator)
            #expect(again.status == .conflict)
            let own = try await harness.request(.post, "/v1/reviews/\(s.study.id)/approve", key: s.researcher)
            #expect(own.status == .forbidden)
        }
    }

    @Test("a rejected study ends rejected with the reason shown to its owner, and nothing of it is leased")
    func rejected() async throws {
        try await CoordinatorHarness.run { harness in
            let s = try await Self.setup(harness)
            let missing = try await harness.request(
                .post, "/v1/reviews/\(s.study.id)/reject", key: s.moderator, json: RejectRequest(reason: "  "))
            #expect(missing.status == .badRequest)
            #expect(try CoordinatorHarness.problem(missing).detail.contains("reason"))
            let _: StudyStatus = try await harness.call(
                .post, "/v1/reviews/\(s.study.id)/reject", key: s.moderator,
                json: RejectRequest(reason: "downloads a binary at run time"))
            let seen: StudyStatus = try await harness.call(.get, "/v1/studies/\(s.study.id)", key: s.researcher)
            #expect(seen.state == .rejected)
            #expect(seen.isFinished)
            #expect(seen.review?.rejectionReason == "downloads a binary at run time")
            #expect(seen.tasks.cancelled == 6)
            #expect(try await Self.lease(harness, s.worker).isEmpty)
            let late = try await harness.request(.post, "/v1/reviews/\(s.study.id)/approve", key: s.moderator)
            #expect(late.status == .conflict)
        }
    }

    @Test(
        "a later study with the same binding is approved at submission naming the earlier approval; a changed bundle waits"
    )
    func bindingReuse() async throws {
        try await CoordinatorHarness.run { harness in
            let s = try await Self.setup(harness)
            let _: StudyStatus = try await harness.call(.post, "/v1/reviews/\(s.study.id)/approve", key: s.moderator)
            // More seeds, other datasets: same code, requirements, command, environment and network.
            let same = try await harness.submit(
                CoordinatorHarness.spec(bundle: s.bundle, datasets: ["iris"], seeds: 5), key: s.researcher)
            #expect(same.state == .running)
            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(same.id)", key: s.researcher)
            #expect(status.review?.approval == .earlierApproval)
            #expect(status.review?.approvedVia == s.study.id)
            #expect(try await Self.lease(harness, s.worker).count == 6 + 5)

            // A different bundle is new code: it waits for its own review.
            let bytes =
                Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]) + Data(repeating: 7, count: 20)
            let uploaded: BundleUploaded = try await harness.call(
                .post, "/v1/bundles", key: s.researcher, body: bytes, contentType: "application/gzip")
            let changed = try await harness.submit(
                CoordinatorHarness.spec(bundle: "sha256:" + uploaded.sha256, datasets: ["iris"], seeds: 5),
                key: s.researcher)
            #expect(changed.state == .pendingReview)
            #expect(try await Self.lease(harness, s.worker).isEmpty)
        }
    }

    @Test("trusted researchers' studies are approved at submission and recorded as such")
    func trusted() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.account([.researcher], name: "later-trusted", trusted: false)
            let moderator = try await harness.key(.moderator)
            // Only admins mark accounts trusted.
            let denied = try await harness.request(
                .post, "/v1/accounts/\(researcher.accountID)/trust", key: moderator, json: TrustRequest(trusted: true))
            #expect(denied.status == .forbidden)
            let unknown = try await harness.request(
                .post, "/v1/accounts/\(UUID())/trust", key: CoordinatorHarness.adminKey,
                json: TrustRequest(trusted: true))
            #expect(unknown.status == .notFound)
            let _: AccountTrust = try await harness.call(
                .post, "/v1/accounts/\(researcher.accountID)/trust", key: CoordinatorHarness.adminKey,
                json: TrustRequest(trusted: true, reason: "known lab"))
            let bundle = try await harness.bundle(researcher: researcher.key)
            let study = try await harness.submit(CoordinatorHarness.spec(bundle: bundle), key: researcher.key)
            #expect(study.state == .running)
            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(study.id)", key: researcher.key)
            #expect(status.review?.approval == .trustedSubmitter)
            #expect(status.review?.signingKeyID != nil)
        }
    }

    @Test("every moderation action is in the audit log, which moderators and admins read and nobody rewrites")
    func auditLog() async throws {
        try await CoordinatorHarness.run { harness in
            let s = try await Self.setup(harness)
            let second = try await harness.submit(
                CoordinatorHarness.spec(bundle: s.bundle, preprint: "arXiv:2401.09999").replacingOccurrences(
                    of: "\"train.py\"", with: "\"other.py\""), key: s.researcher)
            let _: StudyStatus = try await harness.call(.post, "/v1/reviews/\(s.study.id)/approve", key: s.moderator)
            let _: StudyStatus = try await harness.call(
                .post, "/v1/reviews/\(second.id)/reject", key: s.moderator, json: RejectRequest(reason: "no"))
            let _: AccountTrust = try await harness.call(
                .post, "/v1/accounts/\(s.researcherID)/trust", key: CoordinatorHarness.adminKey,
                json: TrustRequest(trusted: true))
            let _: AccountTrust = try await harness.call(
                .post, "/v1/accounts/\(s.researcherID)/trust", key: CoordinatorHarness.adminKey,
                json: TrustRequest(trusted: false))
            let auto = try await harness.submit(CoordinatorHarness.spec(bundle: s.bundle, seeds: 2), key: s.researcher)
            #expect(auto.state == .running)

            let log: AuditLog = try await harness.call(.get, "/v1/moderation/log", key: s.moderator)
            #expect(log.entries.map(\.action) == ["auto_approve", "untrust", "trust", "reject", "approve"])
            #expect(log.entries.first { $0.action == "reject" }?.reason == "no")
            #expect(log.entries.first { $0.action == "auto_approve" }?.actor == nil)
            #expect(log.entries.filter { $0.action != "auto_approve" }.allSatisfy { $0.actor != nil })
            let forStudy: AuditLog = try await harness.call(
                .get, "/v1/moderation/log?study=\(s.study.id)", key: CoordinatorHarness.adminKey)
            #expect(forStudy.entries.map(\.action) == ["approve"])
            let researcherRead = try await harness.request(.get, "/v1/moderation/log", key: s.researcher)
            #expect(researcherRead.status == .forbidden)
            let bad = try await harness.request(.get, "/v1/moderation/log?limit=0", key: s.moderator)
            #expect(bad.status == .badRequest)
            #expect(try CoordinatorHarness.problem(bad).field == "limit")
            // Append-only: even the database owner's UPDATE and DELETE fail.
            await #expect(throws: (any Error).self) {
                try await harness.database.client.query("UPDATE moderation_log SET reason = 'edited'")
            }
            await #expect(throws: (any Error).self) {
                try await harness.database.client.query("DELETE FROM moderation_log")
            }
        }
    }

    @Test("the review document shows the manifest, the first task's command, and the submitter's history")
    func reviewDocument() async throws {
        try await CoordinatorHarness.run { harness in
            let s = try await Self.setup(harness)
            let document: ReviewDocument = try await harness.call(.get, "/v1/reviews/\(s.study.id)", key: s.moderator)
            #expect(document.exampleCommand == ["python3", "train.py", "--seed", "0", "--dataset", "digits"])
            #expect(document.manifest.network == false)
            #expect(document.submitter.trusted == false)
            #expect(document.submitter.studies["pending_review"] == 1)
            #expect(document.taskCount == 6)
            #expect(document.bundleProblem != nil, "the harness's bundle is not a real tar")

            // A real bundle: every file with size and sha256, small texts in full, the requirements.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("review-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let script = Data("import os\nprint('REPRO_METRIC accuracy=0.9')\n".utf8)
            try script.write(to: directory.appendingPathComponent("train.py"))
            try Data("numpy==2.0\n".utf8).write(to: directory.appendingPathComponent("requirements.txt"))
            try Data([0, 1, 2, 3]).write(to: directory.appendingPathComponent("weights.bin"))
            let archive = try BundleArchive.pack(directory: directory)
            let uploaded: BundleUploaded = try await harness.call(
                .post, "/v1/bundles", key: s.researcher, body: archive, contentType: "application/gzip")
            let real = try await harness.submit(
                CoordinatorHarness.spec(bundle: "sha256:" + uploaded.sha256, preprint: "arXiv:2401.05555"),
                key: s.researcher)
            let full: ReviewDocument = try await harness.call(.get, "/v1/reviews/\(real.id)", key: s.moderator)
            #expect(full.bundleProblem == nil)
            #expect(full.files?.map(\.path) == ["requirements.txt", "train.py", "weights.bin"])
            #expect(full.files?.first { $0.path == "train.py" }?.sha256 == BundleArchive.sha256Hex(script))
            #expect(full.texts.map(\.path) == ["requirements.txt", "train.py"], "binary files are listed, not shown")
            #expect(full.requirementsText == "numpy==2.0\n")

            let missing = try await harness.request(.get, "/v1/reviews/\(UUID())", key: s.moderator)
            #expect(missing.status == .notFound)
            let badID = try await harness.request(.get, "/v1/reviews/not-a-uuid", key: s.moderator)
            #expect(badID.status == .badRequest)
        }
    }
}
