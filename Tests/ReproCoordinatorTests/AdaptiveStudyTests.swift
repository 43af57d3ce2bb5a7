import Foundation
import Logging
import NIOCore
import PostgresNIO
import ReproCore
import ReproStats
import Testing

@testable import ReproCLI
@testable import ReproCoordinator

/// Adaptive studies end to end on real PostgreSQL with fake workers (issue 15 part 2, decision 0015).
///
/// The coordinator's own ``AdaptiveMaintainer`` runs in the background and is nudged by the results; the tests
/// also run passes themselves (``settle(_:study:)``) until the study's mark is cleared, so they wait for a state,
/// never for a time.
@Suite("Adaptive studies")
struct AdaptiveStudyTests {
    /// One dataset and one claim: accuracy on digits ≥ 0.95 within 0.01, so `reproduced` needs the lower bound
    /// at or above 0.94.
    static func spec(
        bundle: String, seeds: String, datasets: [String] = ["digits"], replicas: Int = 1,
        preprint: String = "arXiv:2401.01234"
    ) -> String {
        let claims = datasets.map {
            "  - {metric: accuracy, dataset: \($0), value: 0.95, direction: higher, tolerance: 0.01}"
        }.joined(separator: "\n")
        return CoordinatorHarness.spec(
            bundle: bundle, datasets: datasets, replicas: replicas, preprint: preprint, claims: claims
        ).replacingOccurrences(of: "seeds: {from: 0, count: 3}", with: "seeds: \(seeds)")
    }

    /// Five values per step, by seed: the first five reproduce under the fixed rule (p ≈ 0.007) but not at an
    /// O'Brien–Fleming first look (α spent 9·10⁻⁵); with the next five the second look decides.
    static let deciding: [Double] = [0.945, 0.965, 0.950, 0.960, 0.955, 0.948, 0.962, 0.952, 0.958, 0.955]
    /// Mean 0.95 with sd 0.05: no look at 10 seeds or fewer decides.
    static let undecided: [Double] = [0.90, 1.0, 0.90, 1.0, 0.95, 0.90, 1.0, 0.90, 1.0, 0.95]

    /// A researcher submits ``spec(bundle:seeds:datasets:replicas:preprint:)`` with `seeds`.
    static func submit(_ harness: CoordinatorHarness, seeds: String, datasets: [String] = ["digits"], replicas: Int = 1)
        async throws -> (researcher: String, yaml: String, study: StudyCreated)
    {
        let researcher = try await harness.key(.researcher)
        let bundle = try await harness.bundle(researcher: researcher)
        let yaml = spec(bundle: bundle, seeds: seeds, datasets: datasets, replicas: replicas)
        return (researcher, yaml, try await harness.submit(yaml, key: researcher))
    }

    static func result(_ lease: TaskLease, _ value: Double) -> TaskResult {
        TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
            metrics: ["accuracy": value], error: nil, logTail: nil, fingerprint: nil, hardwareClass: "test-cpu")
    }

    /// Leases everything `worker` may take and reports `values[seed]` for each task.
    @discardableResult
    static func runQueued(_ harness: CoordinatorHarness, worker: WorkerRegistered, values: [Double]) async throws -> Int
    {
        let leased: LeaseResponse = try await harness.call(
            .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 50, wait: 0))
        guard !leased.leases.isEmpty else { return 0 }
        let results = leased.leases.map { result($0, values[Int($0.seed)]) }
        let receipts: ResultBatchReceipt = try await harness.call(
            .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
        #expect(receipts.results.allSatisfy { $0.status == .accepted })
        return leased.leases.count
    }

    /// Runs look passes until the study is no longer marked for one. A pass of the background maintainer that
    /// holds the study makes ours skip it; its commit clears the mark, which is what this waits for.
    static func settle(_ harness: CoordinatorHarness, study: UUID) async throws {
        let repository = AdaptiveRepository(client: harness.services.database, logger: harness.database.logger)
        for _ in 0..<6000 {
            _ = try await repository.lookAtNextPending()
            if try await !pending(harness, study: study) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("study \(study) stayed marked for a look")
    }

    static func pending(_ harness: CoordinatorHarness, study: UUID) async throws -> Bool {
        let rows = try await harness.database.client.query("SELECT adaptive_pending FROM studies WHERE id = \(study)")
        for try await pending in rows.decode(Bool.self) { return pending }
        return false
    }

    static func count(_ harness: CoordinatorHarness, _ sql: PostgresQuery) async throws -> Int {
        let rows = try await harness.database.client.query(sql)
        for try await value in rows.decode(Int64.self) { return Int(value) }
        return 0
    }

    @Test("first look inconclusive, second decides: exactly min + step seeds ran, the study completed, two looks")
    func secondLookDecides() async throws {
        // The design's preconditions, checked with the statistics the coordinator calls.
        let claim = Claim(metric: "accuracy", dataset: "digits", value: 0.95, direction: .higher, tolerance: 0.01)
        let first = SequentialCheck.evaluate(
            values: Array(Self.deciding.prefix(5)), lookSizes: [5], maximumRuns: 20, claim: claim)
        try #require(first.verdict == .inconclusive)
        try #require(ClaimCheck.evaluate(values: Array(Self.deciding.prefix(5)), claim: claim).verdict == .reproduced)
        try #require(
            SequentialCheck.evaluate(values: Self.deciding, lookSizes: [5, 10], maximumRuns: 20, claim: claim).verdict
                == .reproduced)

        try await CoordinatorHarness.run { harness in
            let (researcher, yaml, created) = try await Self.submit(
                harness, seeds: "{adaptive: {min: 5, max: 20, step: 5}}")
            #expect(created.taskCount == 5)
            let worker = try await harness.worker(name: "a", slots: 10)

            #expect(try await Self.runQueued(harness, worker: worker, values: Self.deciding) == 5)
            try await Self.settle(harness, study: created.id)
            var status: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            #expect(status.state == .running)
            #expect(status.taskCount == 10)
            #expect(
                status.adaptive?.datasets == [
                    AdaptiveDataset(dataset: "digits", seeds: 10, looks: [5], stopReason: nil)
                ])
            #expect(status.adaptive?.maxTaskCount == 20)

            #expect(try await Self.runQueued(harness, worker: worker, values: Self.deciding) == 5)
            try await Self.settle(harness, study: created.id)
            status = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            #expect(status.state == .completed)
            #expect(status.taskCount == 10)
            #expect(status.tasks.succeeded == 10)
            #expect(status.adaptive?.datasets.first?.stopReason == .decided)
            #expect(status.adaptive?.datasets.first?.looks == [5, 10])
            #expect(
                try await Self.count(harness, "SELECT count(DISTINCT seed) FROM tasks WHERE study_id = \(created.id)")
                    == 10)

            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            let reported = try #require(report.claims.first)
            let sequential = try #require(reported.sequential)
            #expect(sequential.looks.map(\.seeds) == [5, 10])
            #expect(sequential.looks.map(\.look.verdict) == [.inconclusive, .reproduced])
            #expect(sequential.looks.last?.look.reproducedSpentAlpha ?? 1 < 0.05)
            #expect(sequential.stopReason == .decided)
            #expect(reported.verdict == .reproduced)
            #expect(reported.holmVerdict == nil)
            #expect(reported.explanation.contains("decided at the look after 10 seeds"))
            #expect(report.score.reproduced == 1)

            // The raw JSON names the looks' fields as the contract does.
            let raw = try await harness.request(.get, "/v1/studies/\(created.id)/report", key: researcher)
            let text = String(decoding: Data(raw.body.readableBytesView), as: UTF8.self)
            #expect(text.contains(#""stop_reason":"decided""#))
            #expect(text.contains(#""seeds":5"#) && text.contains(#""reproduced_bound""#))

            // The text and HTML renderings show the looks and why they stopped; progress reads "n of at most max".
            #expect(
                ReportRenderer.render(report).contains(
                    "adaptive seeds: decided at the look after 10 seeds (looks at 5, 10 seeds of at most 20)"))
            #expect(ReportRenderer.render(report).contains("0.0056 / 0.0015"), "α spent at the second look")
            #expect(
                ProgressWatcher.describe(status).contains(
                    "digits: 10 of at most 20 seeds, looks at 5, 10 seeds; stopped: decided"))
            #expect(ProgressWatcher.bar(status, elapsed: .seconds(1)).contains("10/10 (of at most 20) done"))
            let page = try await harness.request(.get, "/studies/\(created.id)?standalone=true", key: researcher)
            let html = String(buffer: page.body)
            #expect(
                html.contains("Adaptive seeds per dataset: digits 10 of at most 20, step 5; 10 of at most 20 tasks."))
            #expect(
                html.contains("reproduced: decided at the look after 10 seeds (looks at 5, 10 seeds of at most 20)."))
            #expect(html.contains("<th scope=\"col\">α spent (rep. / not)</th>"))

            // Resubmitting the same spec returns the study; the score counts its final verdict once.
            let again = try await harness.submit(yaml, key: researcher)
            #expect(again.existing && again.id == created.id)
            let score: PreprintScore = try await harness.call(
                .get, "/v1/preprints/arXiv:2401.01234/score", key: researcher)
            #expect(score.claims.map(\.verdict) == [.reproduced])
        }
    }

    @Test("results sent in a worker's cycle nudge the maintainer; the step's tasks wake a waiting worker")
    func cycleResultsWakeAWaitingWorker() async throws {
        try await CoordinatorHarness.run { harness in
            let (_, _, created) = try await Self.submit(harness, seeds: "{adaptive: {min: 5, max: 20, step: 5}}")
            let running = try await harness.worker(name: "a", slots: 10)
            let waiting = try await harness.worker(name: "b", slots: 10)
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: running.token, json: LeaseRequest(max: 10, wait: 0))
            #expect(leased.leases.count == 5)
            // b waits with nothing queued: only the step's notification can bring it tasks before its wait ends
            // (the maintainer's idle pass comes after 30 s).
            let wakeup = harness.services.wakeup
            let poll = Task {
                let answer: LeaseResponse = try await harness.call(
                    .post, "/v1/leases", key: waiting.token, json: LeaseRequest(max: 10, wait: 25))
                return answer.leases
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while wakeup.waitingCount == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(wakeup.waitingCount > 0, "b's poll is waiting")
            let cycle = CycleRequest(
                results: leased.leases.map { Self.result($0, Self.deciding[Int($0.seed)]) }, max: 0, wait: 0)
            let answer: CycleResponse = try await harness.call(
                .post, "/v1/leases/cycle", key: running.token, json: cycle)
            #expect(answer.results.allSatisfy { $0.status == .accepted })
            let woken = try await poll.value
            #expect(woken.map(\.seed).sorted() == [5, 6, 7, 8, 9])
            #expect(woken.allSatisfy { $0.studyID == created.id })
        }
    }

    @Test("a study that never decides stops at max with reached_maximum")
    func stopsAtMaximum() async throws {
        try await CoordinatorHarness.run { harness in
            let (researcher, _, created) = try await Self.submit(
                harness, seeds: "{adaptive: {min: 5, max: 10, step: 5}}")
            let worker = try await harness.worker(name: "a", slots: 10)
            for _ in 0..<2 {
                #expect(try await Self.runQueued(harness, worker: worker, values: Self.undecided) == 5)
                try await Self.settle(harness, study: created.id)
            }
            #expect(try await Self.runQueued(harness, worker: worker, values: Self.undecided) == 0)
            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            #expect(status.state == .completed)
            #expect(status.taskCount == 10)
            #expect(status.adaptive?.datasets.first?.stopReason == .reachedMaximum)
            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            let sequential = try #require(report.claims.first?.sequential)
            #expect(sequential.looks.map(\.seeds) == [5, 10])
            #expect(sequential.stopReason == .reachedMaximum)
            #expect(sequential.verdict == .inconclusive)
            #expect(report.claims.first?.verdict == .inconclusive)
        }
    }

    @Test("a step is added once, whatever runs the pass and how often; it adds every replica like expansion")
    func stepAddedOnce() async throws {
        try await CoordinatorHarness.run { harness in
            let (researcher, yaml, created) = try await Self.submit(
                harness, seeds: "{adaptive: {min: 5, max: 20, step: 5}}", datasets: ["digits", "wine"], replicas: 2)
            #expect(created.taskCount == 2 * 5 * 2)
            // Replicas of one seed go to distinct workers.
            let workers = [
                try await harness.worker(name: "a", slots: 50), try await harness.worker(name: "b", slots: 50),
            ]
            for worker in workers {
                #expect(try await Self.runQueued(harness, worker: worker, values: Self.deciding) == 10)
            }
            // Four passes at once beside the background maintainer, then more after the look.
            let repository = AdaptiveRepository(client: harness.services.database, logger: harness.database.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await repository.lookAtNextPending() } }
                try await group.waitForAll()
            }
            try await Self.settle(harness, study: created.id)
            try await harness.database.client.query(
                "UPDATE studies SET adaptive_pending = true WHERE id = \(created.id)")
            try await Self.settle(harness, study: created.id)

            #expect(try await Self.count(harness, "SELECT count(*) FROM tasks WHERE study_id = \(created.id)") == 40)
            #expect(
                try await Self.count(harness, "SELECT count(*) FROM adaptive_looks WHERE study_id = \(created.id)") == 2
            )
            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher)
            #expect(status.taskCount == 40)
            #expect(status.tasks.queued == 20)

            // The rows are the reference expansion's, ids in its order: seeds 0…4 at submission, then the step's
            // seeds 5…9 of both datasets, with the group numbers they have among all 20 seeds.
            let spec = try StudySpec.parse(Data(yaml.utf8))
            let reference = (spec.expand() + spec.expand(seedIndices: 5..<10)).map {
                [$0.dataset, "\($0.seed)", "\($0.replica)", "\($0.seedGroup)"]
            }
            let rows = try await harness.database.client.query(
                "SELECT dataset, seed, replica, seed_group FROM tasks WHERE study_id = \(created.id) ORDER BY id")
            var stored: [[String]] = []
            for try await (dataset, seed, replica, group) in rows.decode((String, Int64, Int, Int).self) {
                stored.append([dataset, "\(seed)", "\(replica)", "\(group)"])
            }
            #expect(stored == reference)
        }
    }

    @Test("spec validation errors of an adaptive schedule are a 422 naming the field")
    func invalidScheduleNamesTheField() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            for (seeds, field) in [
                ("{adaptive: {min: 1, max: 20, step: 5}}", "matrix.seeds.adaptive.min"),
                ("{adaptive: {min: 5, max: 20, step: 0}}", "matrix.seeds.adaptive.step"),
                ("{adaptive: {min: 30, max: 20, step: 5}}", "matrix.seeds.adaptive.min"),
                ("{adaptive: {min: 5, max: 20000, step: 5000}}", "matrix.seeds.adaptive.max"),
                ("{adaptive: {min: 5, max: 20}}", "matrix.seeds.adaptive.step"),
            ] {
                let response = try await harness.request(
                    .post, "/v1/studies", key: researcher, body: Data(Self.spec(bundle: bundle, seeds: seeds).utf8),
                    contentType: "application/yaml")
                #expect(response.status.code == 422, "\(seeds)")
                let problem = try CoordinatorHarness.problem(response)
                #expect(problem.issues?.map(\.path) == [field], "\(seeds)")
            }
        }
    }

    @Test("cancel stops growth: no look, no step after it, and the claims say why they stopped")
    func cancelStopsGrowth() async throws {
        try await CoordinatorHarness.run { harness in
            let (researcher, _, created) = try await Self.submit(
                harness, seeds: "{adaptive: {min: 5, max: 20, step: 5}}")
            let worker = try await harness.worker(name: "a", slots: 10)
            // Four of the five results: the dataset is not due for a look while its last task is open.
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 10, wait: 0))
            let results = leased.leases.filter { $0.seed < 4 }.map { Self.result($0, Self.undecided[Int($0.seed)]) }
            let _: ResultBatchReceipt = try await harness.call(
                .post, "/v1/results", key: worker.token, json: ResultBatch(results: results))
            let cancelled: StudyStatus = try await harness.call(
                .post, "/v1/studies/\(created.id)/cancel", key: researcher)
            #expect(cancelled.state == .cancelled)

            // A late mark (another coordinator's result, a retry) finds a cancelled study and adds nothing.
            try await harness.database.client.query(
                "UPDATE studies SET adaptive_pending = true WHERE id = \(created.id)")
            try await Self.settle(harness, study: created.id)
            #expect(try await Self.count(harness, "SELECT count(*) FROM tasks WHERE study_id = \(created.id)") == 5)
            #expect(
                try await Self.count(harness, "SELECT count(*) FROM adaptive_looks WHERE study_id = \(created.id)") == 0
            )
            #expect(try await Self.runQueued(harness, worker: worker, values: Self.undecided) == 0)
            let report: StudyReport = try await harness.call(.get, "/v1/studies/\(created.id)/report", key: researcher)
            #expect(report.claims.first?.sequential?.stopReason == .cancelled)
            #expect(report.claims.first?.verdict == .insufficientRuns)
        }
    }

    @Test("a moderator sees what an adaptive study may grow to; live progress carries its 'n of at most max' line")
    func reviewAndProgressShowTheMaximum() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.account([.researcher], name: "untrusted", trusted: false)
            let moderator = try await harness.key(.moderator, name: "mod")
            let bundle = try await harness.bundle(researcher: researcher.key)
            let dataset = "digits"
            let yaml = Self.spec(bundle: bundle, seeds: "{adaptive: {min: 5, max: 20, step: 5}}", datasets: [dataset])
            let created = try await harness.submit(yaml, key: researcher.key)
            #expect(created.state == .pendingReview)
            #expect(created.taskCount == 5)

            let list: ReviewList = try await harness.call(.get, "/v1/reviews", key: moderator)
            let item = try #require(list.studies.first { $0.studyID == created.id })
            #expect(item.taskCount == 5)
            #expect(item.maxTaskCount == 20)
            let document: ReviewDocument = try await harness.call(.get, "/v1/reviews/\(created.id)", key: moderator)
            #expect(document.maxTaskCount == 20)

            let status: StudyStatus = try await harness.call(.get, "/v1/studies/\(created.id)", key: researcher.key)
            let event = try DashboardController.progressEvent(status)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
            let line = try #require(fields["adaptive"] as? String)
            #expect(line.hasSuffix("5 of at most 20 tasks."), "\(line)")
            #expect(line.contains(dataset))
            #expect(fields["held"] as? Int == 5)
            #expect(!event.contains("\n"), "one data line per event")
        }
    }
}
