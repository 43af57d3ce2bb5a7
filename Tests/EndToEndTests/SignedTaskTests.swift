import Crypto
import Foundation
import PostgresNIO
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

/// The trust chain with real processes (decision 0007): an untrusted researcher's study waits for a
/// moderator; once approved, a real `repro-worker` verifies the coordinator's signature before it runs
/// anything. Someone who can write the database but not read the key file changes an approved study's
/// command, bundle hash or signature: the worker refuses each and runs nothing, while the untouched
/// study beside them runs (so the check, not a broken setup, is what stops them).
@Suite("Signed tasks", .serialized)
struct SignedTaskTests {
    /// A study folder whose `train.py` touches `/tmp/<marker>-<seed>` and reports a metric.
    static func study(in root: URL, name: String, marker: String, preprint: String) throws -> URL {
        let folder = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
        import sys
        seed = sys.argv[sys.argv.index("--seed") + 1]
        open("/tmp/\(marker)-" + seed, "w").write("ran")
        print("REPRO_METRIC accuracy=0.9")
        """.write(to: folder.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        try """
        preprint: {id: "\(preprint)", title: "Signed study \(name)"}
        code: {bundle: .}
        run:
          command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}"]
          timeout: 1m
          resources: {cpus: 1, memory: 1GiB, gpus: 0}
          max_attempts: 1
        matrix:
          seeds: {from: 0, count: 1}
          datasets: [d]
        """.write(to: folder.appendingPathComponent("study.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("study.yaml")
    }

    static func submit(_ cluster: Cluster, _ spec: URL) async throws -> UUID {
        let output = try await cluster.cli(["submit", "--new", spec.path])
        let line = try #require(output.split(separator: "\n").last { UUID(uuidString: String($0)) != nil })
        return try #require(UUID(uuidString: String(line)))
    }

    static func waitFinished(_ client: CoordinatorClient, _ ids: [UUID], seconds: Int = 180) async throws
        -> [StudyStatus]
    {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            var statuses: [StudyStatus] = []
            for id in ids { statuses.append(try await client.study(id)) }
            if statuses.allSatisfy(\.isFinished) || ContinuousClock.now > deadline { return statuses }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    @Test(
        "pending until approved; tampered command, bundle or signature refused by a real worker; rotation followed",
        .timeLimit(.minutes(8)))
    func trustChain() async throws {
        let database = try await TestDatabase.create()
        let cluster = try Cluster(databaseURL: database.url)
        let root = try Paths.temporaryDirectory("reprogrid-signed")
        let nonce = String(UUID().uuidString.lowercased().prefix(10))
        let markers = ["good", "evil-command", "evil-bundle", "evil-signature", "rotated"].map {
            "repro-signed-\(nonce)-\($0)"
        }
        defer {
            try? FileManager.default.removeItem(at: root)
            for marker in markers { unlink("/tmp/\(marker)-0") }
        }
        do {
            let url = try await cluster.startCoordinator()
            try await cluster.createKeys(trustResearcher: false)
            let researcher = CoordinatorClient(baseURL: url, key: cluster.researcherKey)
            let moderator = CoordinatorClient(baseURL: url, key: cluster.moderatorKey)

            // Four studies of the untrusted researcher, each with its own code: all wait for review.
            let good = try await Self.submit(
                cluster, try Self.study(in: root, name: "good", marker: markers[0], preprint: "arXiv:2406.00001"))
            let command = try await Self.submit(
                cluster,
                try Self.study(in: root, name: "command", marker: "unused-\(nonce)-c", preprint: "arXiv:2406.00002"))
            let bundle = try await Self.submit(
                cluster,
                try Self.study(in: root, name: "bundle", marker: "unused-\(nonce)-b", preprint: "arXiv:2406.00003"))
            let signature = try await Self.submit(
                cluster,
                try Self.study(in: root, name: "signature", marker: "unused-\(nonce)-s", preprint: "arXiv:2406.00004"))
            #expect(try await researcher.study(good).state == .pendingReview)

            // A worker runs now: it pins the coordinator's key on first use and gets nothing while all is pending.
            let worker = try cluster.startWorker(name: "signed", extra: ["--isolation", "none"])
            try await Task.sleep(for: .seconds(4))
            #expect(try await researcher.runs(good).isEmpty, "a pending study ran")
            #expect(worker.output.contains("on first use"), "\(worker.output)")
            let pinFile = cluster.logs.appendingPathComponent("work-signed/private/coordinator-keys.json")
            #expect(FileManager.default.fileExists(atPath: pinFile.path))

            // The untouched study, approved with the CLI as a moderator, runs and says it verified the signature.
            _ = try await cluster.cli(["review", "approve", good.uuidString], key: cluster.moderatorKey)
            let goodStatus = try await Self.waitFinished(researcher, [good])[0]
            #expect(goodStatus.state == .completed, "\(goodStatus.tasks) \(worker.output.suffix(3000))")
            #expect(FileManager.default.fileExists(atPath: "/tmp/\(markers[0])-0"), "the approved study did not run")
            #expect(worker.output.contains("signature verified (key"), "\(worker.output.suffix(3000))")

            // Stop the worker, approve the other three, then tamper with them in the database.
            worker.terminate()
            #expect(await worker.waitForExit(timeout: .seconds(30)))
            // The coordinator may still hold the stopped worker's long-poll (--lease-wait 5): approving now
            // could lease a task to that closed request, and with max_attempts 1 its expiry would fail it.
            try await Task.sleep(for: .seconds(7))
            for id in [command, bundle, signature] { _ = try await moderator.approveStudy(id) }
            let evilFolder = root.appendingPathComponent("evil")
            try FileManager.default.createDirectory(at: evilFolder, withIntermediateDirectories: true)
            try "open('/tmp/\(markers[2])-0', 'w').write('ran')\n".write(
                to: evilFolder.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
            let evilBundle = try await researcher.uploadBundle(try BundleArchive.pack(directory: evilFolder)).sha256
            let evilCommand = #"["python3", "-c", "open('/tmp/\#(markers[1])-0', 'w').write('ran')"]"#
            let db = database.client
            try await db.query(
                """
                UPDATE studies SET manifest = jsonb_set(manifest, '{command}', \(evilCommand)::jsonb) WHERE id = \(command)
                """)
            try await db.query("UPDATE tasks SET arguments = \(evilCommand)::jsonb WHERE study_id = \(command)")
            try await db.query(
                """
                UPDATE studies SET manifest = jsonb_set(manifest, '{code,bundle_sha256}', to_jsonb(\(evilBundle)::text)),
                                   job = jsonb_set(job, '{code,bundle_sha256}', to_jsonb(\(evilBundle)::text))
                WHERE id = \(bundle)
                """)
            // A valid signature by the right key, but of another study's manifest; the command changed too.
            try await db.query(
                """
                UPDATE studies t SET manifest_signature = g.manifest_signature,
                                     manifest = jsonb_set(t.manifest, '{command}', \(evilCommand)::jsonb)
                FROM studies g WHERE t.id = \(signature) AND g.id = \(good)
                """)

            let again = try cluster.startWorker(name: "signed", extra: ["--isolation", "none"])
            let statuses = try await Self.waitFinished(researcher, [command, bundle, signature])
            for status in statuses {
                #expect(status.tasks.failed == 1, "\(status.id): \(status.tasks) \(again.output.suffix(3000))")
                let runs = try await researcher.runs(status.id)
                #expect(runs.count == 1)
                #expect(runs.allSatisfy { ($0.error ?? "").contains("refused by the worker") }, "\(runs.map(\.error))")
            }
            for marker in markers[1...3] {
                #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-0"), "tampered code ran: \(marker)")
            }
            #expect(again.output.contains("REFUSED"), "\(again.output.suffix(3000))")

            // Rotation while the worker runs: a study with the good study's binding is approved at submission,
            // signed with the new key, which the worker accepts because the old key endorsed it.
            let rotate = try ManagedProcess(
                name: "rotate", executable: Paths.binary("repro-coordinator"),
                arguments: ["signing-key", "rotate", "--signing-key", cluster.signingKey.path],
                logDirectory: cluster.logs)
            #expect(await rotate.waitForExit(timeout: .seconds(30)))
            #expect(rotate.exitStatus == 0, "\(rotate.output)")
            let keyring = try await researcher.signingKeys()
            #expect(keyring.keys.count == 2)
            let newKey = try #require(keyring.keys.last?.keyID)
            let rotated = try await Self.submit(
                cluster, try Self.study(in: root, name: "good", marker: markers[0], preprint: "arXiv:2406.00001"))
            let rotatedStatus = try await Self.waitFinished(researcher, [rotated])[0]
            #expect(rotatedStatus.state == .completed, "\(rotatedStatus.tasks) \(again.output.suffix(3000))")
            #expect(rotatedStatus.review?.approval == .earlierApproval)
            #expect(rotatedStatus.review?.signingKeyID == newKey)
            #expect(again.output.contains("signature verified (key \(newKey))"), "\(again.output.suffix(3000))")
            // The study signed before the rotation still verifies with the published keyring.
            #expect(try await researcher.study(good).review?.signingKeyID == keyring.keys.first?.keyID)

            // A worker pinned to a key the coordinator does not present refuses to start, saying why.
            let stranger = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
            let pinned = try cluster.startWorker(
                name: "pinned-elsewhere", extra: ["--isolation", "none", "--coordinator-key", stranger])
            #expect(await pinned.waitForExit(timeout: .seconds(60)))
            #expect(pinned.exitStatus != 0)
            #expect(pinned.output.contains("none of which this worker pinned"), "\(pinned.output)")
        } catch {
            Issue.record("signed-task cluster failed: \(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        try await database.drop()
    }
}
