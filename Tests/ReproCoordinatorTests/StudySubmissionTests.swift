import Foundation
import HTTPTypes
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

@Suite("Study submission", .serialized)
struct StudySubmissionTests {
    @Test("a valid spec is stored with all its tasks in one transaction")
    func validSpecExpands() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits", "wine", "iris"], seeds: 4, replicas: 2),
                key: researcher)
            #expect(created.taskCount == 24)
            #expect(created.preprintID == "arXiv:2401.01234")

            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            #expect(status.state == .running)
            #expect(status.tasks.queued == 24)
            #expect(status.taskCount == 24)

            // The command is stored once, in the study's manifest; task rows carry none (migration 0011).
            let rows = try await harness.database.client.query(
                "SELECT count(DISTINCT seed_group), count(*), count(arguments) FROM tasks WHERE study_id = \(created.id)")
            for try await (groups, count, arguments) in rows.decode((Int64, Int64, Int64).self) {
                #expect(groups == 12)
                #expect(count == 24)
                #expect(arguments == 0)
            }
        }
    }

    @Test("resubmitting an identical spec returns the study already there; new=true, a cancel or another account make a new one")
    func resubmissionRunsNothingTwice() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let other = try await harness.key(.researcher, name: "other")
            let bundle = try await harness.bundle(researcher: researcher)
            let yaml = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 3)
            func post(_ key: String, query: String = "") async throws -> (status: Int, created: StudyCreated?) {
                let response = try await harness.request(
                    .post, "/v1/studies" + query, key: key, body: Data(yaml.utf8), contentType: "application/yaml")
                let data = Data(response.body.readableBytesView)
                return (Int(response.status.code), try? WireCoding.decoder().decode(StudyCreated.self, from: data))
            }

            let first = try await post(researcher)
            #expect(first.status == 201)
            let firstID = try #require(first.created?.id)
            #expect(first.created?.existing == false)

            // The same spec again: the same study, answered 200.
            let again = try await post(researcher)
            #expect(again.status == 200)
            #expect(again.created?.id == firstID)
            #expect(again.created?.existing == true)
            #expect(again.created?.taskCount == 3)

            // Explicitly asked for, another account's, or after a cancel: a new study.
            let forced = try await post(researcher, query: "?new=true")
            #expect(forced.status == 201)
            #expect(forced.created?.id != firstID)
            let othersStudy = try await post(other)
            #expect(othersStudy.status == 201)
            let bad = try await harness.request(
                .post, "/v1/studies?new=yes", key: researcher, body: Data(yaml.utf8), contentType: "application/yaml")
            #expect(bad.status == .badRequest)
            #expect(try CoordinatorHarness.problem(bad).field == "new")

            // The latest matching study is the one returned; once both are cancelled, a new one is made.
            let latest = try await post(researcher)
            #expect(latest.created?.id == forced.created?.id)
            for id in [firstID, try #require(forced.created?.id)] {
                let _: StudyStatus = try await harness.call(.post, "/v1/studies/\(id)/cancel", key: researcher)
            }
            let afterCancel = try await post(researcher)
            #expect(afterCancel.status == 201)

            let rows = try await harness.database.client.query(
                "SELECT count(*), (SELECT count(*) FROM tasks) FROM studies")
            for try await (studies, tasks) in rows.decode((Int64, Int64).self) {
                #expect(studies == 4)
                #expect(tasks == 12)
            }
        }
    }

    @Test("identical submissions sent at once make one study")
    func concurrentResubmissions() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let yaml = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 2)
            let ids = try await withThrowingTaskGroup(of: UUID.self) { group in
                for _ in 0..<8 { group.addTask { try await harness.submit(yaml, key: researcher).id } }
                var ids: Set<UUID> = []
                for try await id in group { ids.insert(id) }
                return ids
            }
            #expect(ids.count == 1)
            let rows = try await harness.database.client.query("SELECT count(*) FROM studies")
            for try await count in rows.decode(Int64.self) { #expect(count == 1) }
        }
    }

    @Test("an invalid spec answers 422 with every issue and leaves nothing behind")
    func invalidSpecIsRefusedWhole() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            var yaml = CoordinatorHarness.spec(bundle: bundle)
            yaml = yaml.replacingOccurrences(of: "replicas: 1", with: "replicas: 0\n  seedz: 3")
            let response = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(yaml.utf8), contentType: "application/yaml")
            #expect(response.status.code == 422)
            let problem = try CoordinatorHarness.problem(response)
            let paths = Set((problem.issues ?? []).map(\.path))
            #expect(paths.contains("matrix.replicas"))
            #expect(paths.contains { $0.contains("seedz") })
            #expect(problem.field != nil)

            let counts = try await harness.database.client.query(
                "SELECT (SELECT count(*) FROM studies), (SELECT count(*) FROM tasks), (SELECT count(*) FROM preprints)")
            for try await (studies, tasks, preprints) in counts.decode((Int64, Int64, Int64).self) {
                #expect(studies == 0 && tasks == 0 && preprints == 0)
            }
        }
    }

    @Test("a spec naming a bundle that was never uploaded is refused with the field")
    func unknownBundle() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let yaml = CoordinatorHarness.spec(bundle: "sha256:" + String(repeating: "b", count: 64))
            let response = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(yaml.utf8), contentType: "application/yaml")
            #expect(response.status.code == 422)
            #expect(try CoordinatorHarness.problem(response).field == "code.bundle")
            let rows = try await harness.database.client.query("SELECT count(*) FROM preprints")
            for try await count in rows.decode(Int64.self) { #expect(count == 0) }
        }
    }

    @Test("bad bodies: wrong media type, broken JSON, too large")
    func badBodies() async throws {
        try await CoordinatorHarness.run(limits: { var l = SpecLimits.default; l.maxSpecBytes = 4096; return l }()) { harness in
            let researcher = try await harness.key(.researcher)
            let xml = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data("<spec/>".utf8), contentType: "application/xml")
            #expect(xml.status.code == 415)
            let broken = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data("{\"preprint\": ".utf8), contentType: "application/json")
            #expect(broken.status.code == 422 || broken.status.code == 400)
            _ = try CoordinatorHarness.problem(broken)
            let large = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(repeating: 0x20, count: 10_000),
                contentType: "application/yaml")
            #expect(large.status.code == 413)
            let worker = try await harness.worker()
            let badLease = try await harness.request(
                .post, "/v1/leases", key: worker.token, body: Data("{\"max\": \"ten\", \"wait\": 0}".utf8))
            #expect(badLease.status.code == 400)
            #expect(try CoordinatorHarness.problem(badLease).field == "max")
            let tooMany: TestResponseStatus = try await harness.status(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 500, wait: 0))
            #expect(tooMany.code == 400)
        }
    }

    @Test("researchers see and cancel only their own studies")
    func ownership() async throws {
        try await CoordinatorHarness.run { harness in
            let alice = try await harness.key(.researcher, name: "alice")
            let bob = try await harness.key(.researcher, name: "bob")
            let bundle = try await harness.bundle(researcher: alice)
            let created = try await harness.submit(CoordinatorHarness.spec(bundle: bundle), key: alice)
            let peek = try await harness.request(.get, "/v1/studies/\(created.id)", key: bob)
            #expect(peek.status == .notFound)
            let cancel = try await harness.request(.post, "/v1/studies/\(created.id)/cancel", key: bob)
            #expect(cancel.status == .notFound)
            let funder = try await harness.key(.funder)
            let seen = try await harness.request(.get, "/v1/studies/\(created.id)", key: funder)
            #expect(seen.status == .ok)
            let cancelled: StudyStatus = try await harness.call(.post, "/v1/studies/\(created.id)/cancel", key: alice)
            #expect(cancelled.state == .cancelled)
            #expect(cancelled.tasks.cancelled == created.taskCount)
            let again = try await harness.request(.post, "/v1/studies/\(created.id)/cancel", key: alice)
            #expect(again.status == .conflict)
        }
    }
}

typealias TestResponseStatus = HTTPResponse.Status

extension CoordinatorHarness {
    func status(_ method: HTTPRequest.Method, _ path: String, key: String?, json: some Encodable) async throws
        -> HTTPResponse.Status
    {
        try await request(method, path, key: key, json: json).status
    }
}
