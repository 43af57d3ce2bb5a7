import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// Stored scores follow the studies: the triggers flag a preprint, the maintainer recomputes it and
/// appends history only when the value changed.
@Suite("Score history", .serialized)
struct ScoreHistoryTests {
    /// Polls until `condition` holds (the background maintainer may be the one doing the work).
    static func eventually(
        _ scores: ScoreRepository, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            try await scores.recomputeDirty()
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test("completing a study records the score; unchanged recomputation adds nothing; a run change adds a row")
    func historyFollowsStudies() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let funder = try await harness.key(.funder)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(
                CoordinatorHarness.spec(
                    bundle: bundle, datasets: ["digits"], seeds: 6,
                    claims: "  - {metric: accuracy, dataset: digits, value: 0.9, direction: higher, tolerance: 0.05}"),
                key: researcher)
            let worker = try await harness.worker()
            let queue = harness.services.queue
            var leases: [TaskLease] = []
            while leases.count < 6 {
                let batch = try await queue.lease(worker: worker.workerID, max: 6, memoryBytes: 8 << 30, gpus: 0)
                if batch.isEmpty { break }
                leases += batch
            }
            #expect(leases.count == 6)
            _ = try await queue.record(
                results: leases.enumerated().map { LeaseLifecycleTests.result($1, accuracy: 0.95 + Double($0) * 0.001) },
                worker: worker.workerID)
            let status = try #require(try await harness.services.studies.status(created.id))
            #expect(status.state == .completed)

            let scores = ScoreRepository(
                client: harness.services.database, studies: harness.services.studies, logger: Logger(label: "test"))
            func history() async throws -> ScoreHistory {
                try await harness.call(.get, "/v1/preprints/arXiv:2401.01234/score/history", key: funder)
            }
            let recorded = try await Self.eventually(scores) {
                try await history().entries.last?.runs == 6
            }
            #expect(recorded)
            let first = try await history()
            let last = try #require(first.entries.last)
            #expect(last.decided == 1 && last.reproduced == 1 && last.badge == "reproduced")
            #expect(abs(last.score! - 100 * 0.2065493143772374) < 1e-9)

            // Nothing changed: recomputing adds no row.
            try await harness.database.client.query("UPDATE preprints SET score_dirty = true")
            #expect(try await Self.eventually(scores) { try await Self.dirtyCount(harness) == 0 })
            #expect(try await history().entries.count == first.entries.count)

            // A run losing its acceptance flags the preprint again through the trigger.
            try await harness.database.client.query(
                "UPDATE runs SET accepted = false WHERE id = (SELECT min(id) FROM runs)")
            #expect(try await Self.eventually(scores) { try await history().entries.last?.runs == 5 })
            #expect(try await history().entries.count == first.entries.count + 1)

            let record: PreprintRecord = try await harness.call(.get, "/v1/preprints/2401.01234", key: funder)
            #expect(record.score?.runs == 5)
            #expect(record.studies == 1)
            let table: ScorePage = try await harness.call(.get, "/v1/scores?funder=Example%20Foundation", key: funder)
            #expect(table.rows.map(\.preprintID) == ["arXiv:2401.01234"])
            #expect(table.rows.first?.runs == 5)
        }
    }

    static func dirtyCount(_ harness: CoordinatorHarness) async throws -> Int64 {
        let rows = try await harness.database.client.query("SELECT count(*) FROM preprints WHERE score_dirty")
        for try await count in rows.decode(Int64.self) { return count }
        return 0
    }

    @Test("with --public-read, anonymous callers read the funders' routes for completed studies only")
    func publicRead() async throws {
        var logger = Logger(label: "test.public")
        logger.logLevel = .warning
        try await withTestDatabase(logger: logger) { database in
            let configuration = CoordinatorConfiguration(
                database: .url(database.url), migrationsDirectory: CoordinatorHarness.migrationsDirectory.path,
                adminKey: CoordinatorHarness.adminKey, authCacheTTL: .zero, maxConnections: 10, publicRead: true,
                signingKey: FileManager.default.temporaryDirectory
                    .appendingPathComponent("reprogrid-signing-\(UUID().uuidString)/signing.key").path)
            let (app, services) = try await buildApplication(configuration: configuration, logger: logger)
            try await app.test(.router) { client in
                let harness = CoordinatorHarness(services: services, client: client, database: database)
                let researcher = try await harness.key(.researcher)
                try await harness.putPreprint("2401.00001", title: "Done", funding: [.init(funder: "NSF")], key: researcher)
                try await harness.putPreprint("2401.00002", title: "Running", funding: [.init(funder: "NSF")], key: researcher)
                try await harness.setScore("arXiv:2401.00001", score: 43.85, k: 3, K: 3, completed: true)
                try await harness.setScore("arXiv:2401.00002", score: 20, k: 1, K: 1, completed: false)

                let page: ScorePage = try await harness.call(.get, "/v1/scores", key: nil)
                #expect(page.rows.map(\.preprintID) == ["arXiv:2401.00001"])
                let summary: ScoreGroupSummary = try await harness.call(.get, "/v1/funders/NSF/summary", key: nil)
                #expect(summary.preprints == 1)
                #expect(try await harness.request(.get, "/v1/preprints/2401.00001", key: nil).status == .ok)
                #expect(try await harness.request(.get, "/v1/preprints/2401.00002", key: nil).status == .notFound)
                #expect(try await harness.request(.get, "/v1/preprints/2401.00001/score", key: nil).status == .unauthorized)
                #expect(try await harness.request(.put, "/v1/preprints/2401.00001", key: nil, json: PreprintUpdate(title: "x")).status == .unauthorized)
                #expect(
                    try await harness.request(
                        .post, "/v1/preprints/2401.00001/feedback", key: nil, json: FeedbackPost(verdict: .comment)
                    ).status == .unauthorized)
            }
        }
    }
}
