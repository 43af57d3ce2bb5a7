import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import ReproCore
import ReproTestSupport
import Testing

@testable import ReproCoordinator

/// A signed-in browser for the dashboard tests: the session cookie and the session's CSRF token.
struct DashboardBrowser {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String = ""

    /// Opens the sign-in page and posts the key, as a person would.
    static func signIn(_ client: any TestClientProtocol, key: String) async throws -> DashboardBrowser {
        let form = try await client.execute(uri: "/sign-in", method: .get, headers: [:], body: nil)
        #expect(form.status == .ok)
        let signInCookie = try #require(Self.cookie(named: DashboardController.signInCookie, in: form))
        let token = try #require(Self.hidden("csrf", in: String(buffer: form.body)))
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.cookie] = "\(DashboardController.signInCookie)=\(signInCookie)"
        let posted = try await client.execute(
            uri: "/sign-in", method: .post, headers: headers,
            body: ByteBuffer(string: "csrf=\(token)&key=\(WebPage.queryValue(key))&next=%2F"))
        #expect(posted.status == .seeOther, "sign-in answered \(posted.status)")
        let session = try #require(Self.cookie(named: SessionMiddleware.cookieName, in: posted))
        var browser = DashboardBrowser(client: client, cookie: session)
        let home = try await browser.get("/")
        browser.csrf = try #require(Self.hidden("csrf", in: home.text))
        return browser
    }

    static func anonymous(_ client: any TestClientProtocol) -> DashboardBrowser {
        DashboardBrowser(client: client, cookie: nil)
    }

    struct Page {
        var status: HTTPResponse.Status
        var text: String
        var headers: HTTPFields
    }

    func get(_ path: String) async throws -> Page {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = "\(SessionMiddleware.cookieName)=\(cookie)" }
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        return Page(status: response.status, text: String(buffer: response.body), headers: response.headers)
    }

    func post(_ path: String, form: String) async throws -> Page {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = "\(SessionMiddleware.cookieName)=\(cookie)" }
        headers[.contentType] = "application/x-www-form-urlencoded"
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: form))
        return Page(status: response.status, text: String(buffer: response.body), headers: response.headers)
    }

    static func cookie(named name: String, in response: TestResponse) -> String? {
        for header in response.headers[values: .setCookie] where header.hasPrefix("\(name)=") {
            return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    /// The value of the first hidden input called `name`.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// A coordinator for the dashboard tests, optionally with `--public-read`.
enum DashboardHarness {
    static func run(publicRead: Bool, cookieSecure: Bool = false, _ body: @escaping @Sendable (CoordinatorHarness) async throws -> Void)
        async throws
    {
        try await CoordinatorHarness.run(
            policy: LeasePolicy(ttlSeconds: 30, backoffBaseSeconds: 0.05, reaperIntervalSeconds: 3600),
            label: "test.dashboard",
            configure: { configuration in
                configuration.publicRead = publicRead
                configuration.cookieSecure = cookieSecure
            },
            body)
    }
}

/// The data every dashboard test looks at: a completed study of researcher A with a failed attempt,
/// a running study of researcher B, hostile strings wherever users write text.
struct DashboardFixture {
    static let hostileTitle = #"<script>alert("title")</script>"'><img src=x onerror=alert(1)>"#
    static let hostileText = #"<script>alert('feedback')</script> <a href="javascript:alert(2)">x</a> "quoted" & 'single'"#
    static let secretLog = "SECRET-LOG-TAIL-OF-A"
    static let hostileError = "<script>alert('error')</script>"
    static let preprintA = "arXiv:2401.01234"
    static let preprintB = "arXiv:2402.00002"

    var keys: [String: String] = [:]
    var studyA: UUID
    var studyB: UUID
    var acceptedRuns: Int

    static func make(_ harness: CoordinatorHarness) async throws -> DashboardFixture {
        var keys: [String: String] = [:]
        keys["admin"] = CoordinatorHarness.adminKey
        keys["researcherA"] = try await harness.key(.researcher, name: "A")
        keys["researcherB"] = try await harness.key(.researcher, name: "B")
        keys["moderator"] = try await harness.key(.moderator)
        keys["funder"] = try await harness.key(.funder)
        keys["community"] = try await harness.key(.community)
        keys["volunteer"] = try await harness.key(.volunteer, name: "volunteer-alpha")
        keys["volunteer2"] = try await harness.key(.volunteer, name: "volunteer-beta")
        let bundleA = try await harness.bundle(researcher: keys["researcherA"]!)
        let createdA = try await harness.submit(
            CoordinatorHarness.spec(
                bundle: bundleA, datasets: ["digits"], seeds: 6,
                claims: "  - {metric: accuracy, dataset: digits, value: 0.95, direction: higher, tolerance: 0.02}"),
            key: keys["researcherA"]!)
        try await harness.putPreprint(
            preprintA, title: hostileTitle, institutions: ["javascript:alert(3)"],
            funding: [FundingEntry(funder: "Example Foundation", grant: "EF-1")], key: keys["researcherA"]!)
        let bundleB = try await harness.bundle(researcher: keys["researcherB"]!)
        let createdB = try await harness.submit(
            CoordinatorHarness.spec(bundle: bundleB, datasets: ["wine"], seeds: 3, preprint: preprintB,
                claims: "  - {metric: accuracy, dataset: wine, value: 0.9, direction: higher}"),
            key: keys["researcherB"]!)
        try await harness.putPreprint(preprintB, title: "B-PRIVATE-STUDY-TITLE", key: keys["researcherB"]!)

        let alpha: WorkerRegistered = try await harness.call(
            .post, "/v1/workers", key: keys["volunteer"]!,
            json: WorkerRegistration(name: "worker-alpha", slots: 4, cpus: 2, memoryBytes: 8 << 30, gpus: 0, hardwareClass: "cpu-a"))
        let _: WorkerRegistered = try await harness.call(
            .post, "/v1/workers", key: keys["volunteer2"]!,
            json: WorkerRegistration(name: "worker-beta", slots: 2, cpus: 2, memoryBytes: 8 << 30, gpus: 0, hardwareClass: "cpu-b"))
        // A's six tasks: one fails first (hostile error, private log tail) and succeeds on retry.
        let queue = harness.services.queue
        var leases: [TaskLease] = []
        for _ in 0..<10 where leases.count < 6 {
            leases += try await queue.lease(worker: alpha.workerID, max: 6, memoryBytes: 8 << 30, gpus: 0)
                .filter { lease in lease.studyID == createdA.id }
        }
        #expect(leases.count == 6)
        var results = leases.enumerated().map { LeaseLifecycleTests.result($1, accuracy: 0.95 + Double($0) * 0.002) }
        results[0] = TaskResult(
            taskID: leases[0].taskID, leaseID: leases[0].leaseID, outcome: .failed, exitCode: 1, durationSeconds: 1,
            metrics: [:], error: hostileError, logTail: secretLog, fingerprint: nil, hardwareClass: "cpu-a")
        _ = try await queue.record(results: results, worker: alpha.workerID)
        var retry: [TaskLease] = []
        for _ in 0..<50 where retry.isEmpty {
            retry = try await queue.lease(worker: alpha.workerID, max: 1, memoryBytes: 8 << 30, gpus: 0)
                .filter { $0.studyID == createdA.id }
            if retry.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        let again = try #require(retry.first)
        _ = try await queue.record(results: [LeaseLifecycleTests.result(again, accuracy: 0.96)], worker: alpha.workerID)
        let status = try #require(try await harness.services.studies.status(createdA.id))
        #expect(status.state == .completed)
        // Let the score maintainer settle first, so the score set here is not overwritten under the tests.
        let scores = ScoreRepository(client: harness.services.database, studies: harness.services.studies, logger: .init(label: "test"))
        #expect(try await ScoreHistoryTests.eventually(scores) { try await ScoreHistoryTests.dirtyCount(harness) == 0 })
        try await harness.setScore(preprintA, score: 43.4, k: 1, K: 1, runs: 6, badge: "reproduced", completed: true)

        _ = try await harness.postFeedback(
            preprintA, FeedbackPost(verdict: .partially, rating: 3, tags: ["seed-sensitive"], text: hostileText),
            key: keys["community"]!)
        return DashboardFixture(keys: keys, studyA: createdA.id, studyB: createdB.id, acceptedRuns: 6)
    }
}
