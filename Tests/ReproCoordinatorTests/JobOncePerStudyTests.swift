import Foundation
import HTTPTypes
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Issue 11 defect 9 and issue 16: the job is stored once per study, the database expands the matrix,
/// a task row's size does not depend on the command, lease answers carry each study's job once and are
/// capped, and the spec has a size limit.
@Suite("Job stored once per study", .serialized)
struct JobOncePerStudyTests {
    /// A spec with two configurations, replicas, spot checks and a command of about `commandBytes`.
    static func spec(bundle: String, seeds: Int = 5, commandBytes: Int = 0, preprint: String = "arXiv:2401.01234",
                     verification: Bool = true) -> String {
        // Many arguments of 1 000 characters each, all literal: the command's length is what varies.
        let padding = (0..<(commandBytes / 1000)).map { _ in "\"--pad=\(String(repeating: "x", count: 994))\"" }
        let command = (["\"python3\"", "\"train.py\"", "\"--seed\"", "\"{seed}\"", "\"--dataset\"", "\"{dataset}\"",
                        "\"--hidden={hidden}\"", "\"--config={config}\""] + padding).joined(separator: ", ")
        return """
            {
              "preprint": {"id": "\(preprint)", "title": "Small Nets Generalise", "authors": ["A. Author"],
                           "institutions": ["Example University"], "field": "cs.LG",
                           "funding": [{"funder": "ERC", "grant": "1"}]},
              "code": {"bundle": "\(bundle)"},
              "run": {"command": [\(command)], "timeout": 600, "resources": {"cpus": 1, "memory": 1073741824, "gpus": 0},
                      "max_attempts": 3},
              "matrix": {"seeds": {"from": 100, "count": \(seeds)}, "datasets": ["digits", "wine", "breast_cancer"],
                         "configurations": {"small": {"hidden": "32"}, "large": {"hidden": "128"}}, "replicas": 2},
              \(verification ? "\"verification\": {\"replicate_fraction\": 0.2}," : "")
              "claims": [{"metric": "accuracy", "dataset": "digits", "value": 0.9, "direction": "higher", "tolerance": 0.01}]
            }
            """
    }

    func submit(_ harness: CoordinatorHarness, _ json: String, key: String) async throws -> StudyCreated {
        try await harness.call(.post, "/v1/studies", key: key, body: Data(json.utf8), contentType: "application/json")
    }

    @Test("the database expands the matrix into exactly StudySpec.expand()'s tasks, ids in its order")
    func databaseExpansionMatchesTheReference() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let json = Self.spec(bundle: bundle, seeds: 7)
            let reference = try StudySpec.parse(Data(json.utf8), format: .json, context: .server).expand()
            #expect(reference.contains { $0.distinctAccounts }, "the fixture must spot-check some groups")
            let created = try await submit(harness, json, key: researcher)
            #expect(created.taskCount == reference.count)
            let rows = try await harness.database.client.query(
                """
                SELECT dataset, seed, configuration, replica, seed_group, group_size, distinct_accounts
                FROM tasks WHERE study_id = \(created.id) ORDER BY id
                """)
            var stored: [TaskTemplate] = []
            for try await (dataset, seed, configuration, replica, group, size, distinct)
                in rows.decode((String, Int64, String?, Int, Int, Int, Bool).self)
            {
                stored.append(
                    TaskTemplate(
                        dataset: dataset, seed: seed, configuration: configuration, replica: replica, seedGroup: group,
                        arguments: [], groupSize: size, distinctAccounts: distinct))
            }
            #expect(stored == reference.map { var task = $0; task.arguments = []; return task })
        }
    }

    @Test("a task row's size does not depend on the command's length; the lease rebuilds the command")
    func taskRowsDoNotGrowWithTheCommand() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            // No spot checks: which groups are checked depends on the spec's digest, and the checked groups'
            // dataset names (of different lengths) would make the two averages differ by a fraction of a byte.
            let short = try await submit(harness, Self.spec(bundle: bundle, verification: false), key: researcher)
            let longJSON = Self.spec(
                bundle: bundle, commandBytes: 200_000, preprint: "arXiv:2401.04321", verification: false)
            #expect(longJSON.utf8.count > 200_000)
            let long = try await submit(harness, longJSON, key: researcher)
            #expect(short.taskCount == long.taskCount)

            // Per task: the row itself and its TOAST share. Same matrix, so the same bytes per task.
            func bytesPerTask(_ study: UUID) async throws -> Double {
                let rows = try await harness.database.client.query(
                    "SELECT sum(pg_column_size(t.*))::float8 / count(*) FROM tasks t WHERE study_id = \(study)")
                for try await value in rows.decode(Double.self) { return value }
                return .nan
            }
            let shortBytes = try await bytesPerTask(short.id)
            let longBytes = try await bytesPerTask(long.id)
            #expect(shortBytes == longBytes, "short \(shortBytes) B/task, long \(longBytes) B/task")
            #expect(longBytes < 200)

            // The lease answer carries the command once (in the manifest), not once per task.
            let worker = try await harness.worker(name: "reader", slots: 50)
            try await harness.database.client.query(
                "UPDATE tasks SET state = 'held' WHERE study_id = \(short.id) AND state = 'queued'")
            let response = try await harness.request(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 10, wait: 0))
            let body = Data(response.body.readableBytesView)
            let answer = try WireCoding.decoder().decode(LeaseResponse.self, from: body)
            // One replica per seed group and batch: 5 to 10 leases, each with the 200 KB command.
            #expect(answer.leases.count >= 5)
            #expect(body.count < 230_000, "a \(answer.leases.count)-lease answer was \(body.count) bytes")
            for lease in answer.leases {
                let manifest = try #require(lease.manifest)
                #expect(
                    lease.arguments
                        == manifest.arguments(seed: lease.seed, dataset: lease.dataset, configuration: lease.configuration))
                #expect(lease.arguments.count == 8 + 200)
                #expect(lease.arguments[3] == String(lease.seed))
            }
        }
    }

    @Test("a spec over the size limit gets 413 with a problem document")
    func oversizedSpecIsRefused() async throws {
        try await CoordinatorHarness.run(limits: SpecLimits(maxSpecBytes: 64 << 10, maxTasks: 10_000)) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let response = try await harness.request(
                .post, "/v1/studies", key: researcher, body: Data(Self.spec(bundle: bundle, commandBytes: 80_000).utf8),
                contentType: "application/json")
            #expect(response.status.code == 413)
            #expect(response.headers[.contentType] == "application/problem+json")
            let problem = try CoordinatorHarness.problem(response)
            #expect(problem.status == 413)
            let rows = try await harness.database.client.query("SELECT count(*) FROM studies")
            for try await count in rows.decode(Int64.self) { #expect(count == 0) }
            // Under the limit, the same spec is taken.
            _ = try await submit(harness, Self.spec(bundle: bundle, commandBytes: 40_000), key: researcher)
        }
    }

    @Test("a lease answer stays under its cap: leases past it are handed back with their attempt")
    func leaseAnswerIsCapped() async throws {
        var policy = LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.05, reaperIntervalSeconds: 3600)
        policy.maxResponseBytes = 150_000
        try await CoordinatorHarness.run(policy: policy) { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            // Three studies with 100 KB commands, one seed each: 3 × 2 × 2 (+ spot checks) tasks per study.
            var studies: [UUID] = []
            for index in 0..<3 {
                let json = Self.spec(
                    bundle: bundle, seeds: 1, commandBytes: 100_000, preprint: "arXiv:2401.0000\(index)", verification: false)
                studies.append(try await submit(harness, json, key: researcher).id)
            }
            // Each study has 6 seed groups of 2 replicas, and a batch takes one replica per group: a batch
            // of 10 takes 6 tasks of the first study and 4 of the second, two manifests of ~100 KB.
            let worker = try await harness.worker(name: "capped", slots: 50)
            let response = try await harness.request(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 10, wait: 0))
            let body = Data(response.body.readableBytesView)
            let answer = try WireCoding.decoder().decode(LeaseResponse.self, from: body)
            #expect(body.count <= 150_000, "answer of \(body.count) bytes")
            #expect(!answer.leases.isEmpty)
            #expect(answer.leases.count == 6, "the cap should keep the first study's 6 leases")
            #expect(Set(answer.leases.map(\.studyID)) == [studies[0]])
            // Only the leases sent are leased; the others are queued again with no attempt spent.
            let rows = try await harness.database.client.query(
                """
                SELECT count(*) FILTER (WHERE state = 'leased'), count(*) FILTER (WHERE state = 'queued' AND attempts = 0),
                       count(*)
                FROM tasks
                """)
            for try await (leased, queued, total) in rows.decode((Int64, Int64, Int64).self) {
                #expect(leased == Int64(answer.leases.count))
                #expect(queued == total - leased)
            }
            // With a single lease the cap cannot bind: one lease is always sent.
            let single = try await harness.request(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            #expect(try WireCoding.decoder().decode(LeaseResponse.self, from: Data(single.body.readableBytesView)).leases.count == 1)
        }
    }
}
