import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Every dashboard page for every role, with and without `--public-read`: the status the API's rules
/// give, and none of another researcher's private data (failures, log tails, runs, studies) on it.
@Suite("Dashboard pages", .serialized)
struct DashboardPageTests {
    /// Expected status per page for each caller; callers not listed get 403 (signed in) or 401.
    struct Expectation {
        var path: String
        var allowed: [String: HTTPResponse.Status]
        var publicRead: HTTPResponse.Status?
    }

    static let callers = ["admin", "researcherA", "researcherB", "moderator", "funder", "community", "volunteer"]

    static func expectations(_ fixture: DashboardFixture) -> [Expectation] {
        let a = fixture.studyA.uuidString.lowercased()
        let readers: [String: HTTPResponse.Status] = [
            "admin": .ok, "researcherA": .ok, "researcherB": .ok, "moderator": .ok, "funder": .ok, "community": .ok,
        ]
        let everyone = readers.merging(["volunteer": .ok]) { $1 }
        return [
            Expectation(path: "/", allowed: everyone, publicRead: .ok),
            Expectation(path: "/preprints", allowed: readers, publicRead: .ok),
            Expectation(path: "/preprints?funder=Example%20Foundation&sort=runs&order=asc&limit=1", allowed: readers, publicRead: .ok),
            Expectation(path: "/preprints.csv", allowed: readers, publicRead: .ok),
            Expectation(path: "/preprints/\(DashboardFixture.preprintA)", allowed: readers, publicRead: .ok),
            Expectation(
                path: "/studies/\(a)",
                allowed: ["admin": .ok, "researcherA": .ok, "researcherB": .notFound, "moderator": .ok, "funder": .ok],
                publicRead: nil),
            Expectation(
                path: "/studies/\(fixture.studyB.uuidString.lowercased())",
                allowed: ["admin": .ok, "researcherA": .notFound, "researcherB": .ok, "moderator": .ok, "funder": .ok],
                publicRead: nil),
            Expectation(path: "/funders/Example%20Foundation", allowed: readers, publicRead: .ok),
            Expectation(path: "/institutions/Example%20University", allowed: readers, publicRead: .ok),
            Expectation(path: "/workers", allowed: ["admin": .ok, "volunteer": .ok], publicRead: nil),
        ]
    }

    @Test("every page × every role: status and no other researcher's data; hostile text comes out inert")
    func everyPageEveryRole() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let fixture = try await DashboardFixture.make(harness)
            var browsers: [String: DashboardBrowser] = [:]
            for caller in Self.callers {
                browsers[caller] = try await DashboardBrowser.signIn(harness.client, key: fixture.keys[caller]!)
            }
            let anonymous = DashboardBrowser.anonymous(harness.client)
            // Every page in the catalogue is exercised.
            let covered = Set(Self.expectations(fixture).map { $0.path.split(separator: "?")[0] })
            #expect(covered.count >= 9)

            for expectation in Self.expectations(fixture) {
                for caller in Self.callers {
                    let page = try await browsers[caller]!.get(expectation.path)
                    let expected = expectation.allowed[caller] ?? .forbidden
                    #expect(page.status == expected, "\(expectation.path) as \(caller): \(page.status)")
                    // The CSV is an attachment (text/csv, nosniff), not a page: titles stay as written there.
                    if !expectation.path.contains(".csv") { Self.checkInert(page.text, "\(expectation.path) as \(caller)") }
                    if page.status == .ok && !expectation.path.hasSuffix(".csv") {
                        #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                    }
                    // Private data of researcher A: failures and their log tails only for A and admins.
                    if caller != "researcherA" && caller != "admin" {
                        #expect(!page.text.contains(DashboardFixture.secretLog), "\(expectation.path) as \(caller) shows A's log tail")
                    }
                    // Researcher A's pages never show B's study (its id) unless B's preprint is listed as
                    // the scores table lists every preprint; runs of B never.
                    let typed = expectation.path.contains(fixture.studyA.uuidString.lowercased())
                        || expectation.path.contains(fixture.studyB.uuidString.lowercased())
                    if caller == "researcherA" && !typed && !expectation.path.hasPrefix("/preprints") && !expectation.path.hasPrefix("/funders") && !expectation.path.hasPrefix("/institutions") {
                        #expect(!page.text.contains(fixture.studyB.uuidString.lowercased()), "\(expectation.path) as A shows B's study")
                        #expect(!page.text.contains("B-PRIVATE-STUDY-TITLE"), "\(expectation.path) as A shows B's title")
                    }
                    if caller == "researcherB" && !typed && !expectation.path.hasPrefix("/preprints") && !expectation.path.hasPrefix("/funders") && !expectation.path.hasPrefix("/institutions") {
                        #expect(!page.text.contains(fixture.studyA.uuidString.lowercased()), "\(expectation.path) as B shows A's study")
                    }
                }
                let page = try await anonymous.get(expectation.path)
                let expected: HTTPResponse.Status = expectation.path == "/" ? .ok : .unauthorized
                #expect(page.status == expected, "\(expectation.path) anonymous: \(page.status)")
                #expect(!page.text.contains(DashboardFixture.secretLog))
                #expect(!page.text.contains("43.4"), "\(expectation.path) anonymous shows a score")
            }

            // Who sees which part of A's study page.
            let studyPath = "/studies/\(fixture.studyA.uuidString.lowercased())"
            let owner = try await browsers["researcherA"]!.get(studyPath)
            #expect(owner.text.contains(DashboardFixture.secretLog))
            #expect(owner.text.contains("<table class=\"runs\">"))
            #expect(owner.text.contains("&lt;script&gt;alert(&#39;error&#39;)&lt;/script&gt;"))
            #expect(Self.occurrences("<circle class=\"run\"", in: owner.text) >= 2 * fixture.acceptedRuns)
            #expect(owner.text.contains("<g class=\"claim-row\""))
            #expect(try await browsers["admin"]!.get(studyPath).text.contains(DashboardFixture.secretLog))
            let moderator = try await browsers["moderator"]!.get(studyPath)
            #expect(moderator.text.contains("<table class=\"runs\">"))
            #expect(!moderator.text.contains("Cancel the study"))
            let funder = try await browsers["funder"]!.get(studyPath)
            #expect(!funder.text.contains("<table class=\"runs\">"))
            #expect(!funder.text.contains("Failures"))
            // The strip plot has one dot per accepted run (6), the claim plot one row per claim (1).
            let strip = try #require(funder.text.range(of: "class=\"plot strip\""))
            let stripSVG = funder.text[strip.lowerBound...].prefix { _ in true }
            #expect(Self.occurrences("<circle class=\"run\"", in: String(stripSVG.prefix(upTo: stripSVG.range(of: "</svg>")!.lowerBound))) == 6)

            // The stand-alone page of `repro report --html`: bearer key, inline CSS, no script, nothing
            // fetched from elsewhere; other researchers get 404 as from the report route.
            let standalone = try await harness.request(.get, studyPath + "?standalone=true", key: fixture.keys["researcherA"]!)
            #expect(standalone.status == .ok)
            let html = String(buffer: standalone.body)
            #expect(html.contains("<style>") && !html.contains("<script") && !html.contains("<link"))
            #expect(!html.contains("src=\"http") && !html.contains("Sign out"))
            #expect(Self.occurrences("<circle class=\"run\"", in: html) >= fixture.acceptedRuns)
            #expect(try await harness.request(.get, studyPath + "?standalone=true", key: fixture.keys["researcherB"]!).status == .notFound)

            // Volunteers see their own workers only.
            let workers = try await browsers["volunteer"]!.get("/workers")
            #expect(workers.text.contains("worker-alpha") && !workers.text.contains("worker-beta"))
            let all = try await browsers["admin"]!.get("/workers")
            #expect(all.text.contains("worker-alpha") && all.text.contains("worker-beta"))

            // The preprint page: hostile title and feedback are text, not markup; the claim plot shows
            // runs only to those who may read the report.
            let preprintPath = "/preprints/\(DashboardFixture.preprintA)"
            let asCommunity = try await browsers["community"]!.get(preprintPath)
            #expect(asCommunity.text.contains("&lt;script&gt;alert(&#39;feedback&#39;)&lt;/script&gt;"))
            #expect(asCommunity.text.contains("&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;"))
            #expect(asCommunity.text.contains("<g class=\"claim-row\""))
            #expect(Self.occurrences("<circle class=\"run\"", in: asCommunity.text) == 0)
            #expect(asCommunity.text.contains("action=\"/preprints/\(DashboardFixture.preprintA)/feedback\""))
            let asFunder = try await browsers["funder"]!.get(preprintPath)
            #expect(Self.occurrences("<circle class=\"run\"", in: asFunder.text) == fixture.acceptedRuns)
            #expect(!asFunder.text.contains("/feedback\" class=\"stack\""), "a funder writes nothing")

            // The CSV link downloads exactly the rows shown.
            let list = try await browsers["funder"]!.get("/preprints?limit=1&sort=score&order=desc")
            let csvHref = try #require(Self.attribute("href", ofElementWithID: "csv-link", in: list.text))
            let csv = try await browsers["funder"]!.get(csvHref.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            // CSV lines end in CRLF, which Swift reads as one Character: split on any newline.
            let csvLines = csv.text.split(whereSeparator: \.isNewline)
            #expect(csvLines.count == 2, "header and the one row shown")
            let shownRows = Self.occurrences("<tr><td><a href=\"/preprints/", in: list.text)
            #expect(shownRows == 1)
        }
    }

    @Test("with --public-read anonymous visitors see the public pages only, and no claims or runs")
    func publicReadAnonymous() async throws {
        try await DashboardHarness.run(publicRead: true) { harness in
            let fixture = try await DashboardFixture.make(harness)
            let anonymous = DashboardBrowser.anonymous(harness.client)
            for expectation in Self.expectations(fixture) {
                let page = try await anonymous.get(expectation.path)
                #expect(page.status == (expectation.publicRead ?? .unauthorized), "\(expectation.path) anonymous: \(page.status)")
                if !expectation.path.contains(".csv") { Self.checkInert(page.text, expectation.path) }
                #expect(!page.text.contains(DashboardFixture.secretLog))
                #expect(!page.text.contains("B-PRIVATE-STUDY-TITLE"), "B's preprint has no completed study")
                #expect(!page.text.contains("<circle class=\"run\""))
            }
            // B's preprint has no completed study: not public.
            #expect(try await anonymous.get("/preprints/\(DashboardFixture.preprintB)").status == .notFound)
            let preprint = try await anonymous.get("/preprints/\(DashboardFixture.preprintA)")
            #expect(preprint.text.contains("Sign in to see the claims"))
            #expect(!preprint.text.contains("action=\"/preprints/"), "no feedback form for anonymous readers")
        }
    }

    @Test("badge.svg is public, says the score, and answers 304 to its ETag")
    func badge() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let fixture = try await DashboardFixture.make(harness)
            _ = fixture
            let response = try await harness.request(.get, "/v1/preprints/\(DashboardFixture.preprintA)/badge.svg", key: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("image/svg+xml") == true)
            let body = String(buffer: response.body)
            #expect(body.contains("43 · 1/1 claims"))
            let etag = try #require(response.headers[.eTag])
            var headers = HTTPFields()
            headers[.ifNoneMatch] = etag
            let again = try await harness.client.execute(
                uri: "/v1/preprints/\(DashboardFixture.preprintA)/badge.svg", method: .get, headers: headers, body: nil)
            #expect(again.status == .notModified)
            // B's preprint has no completed study, an unknown one does not exist: the same badge.
            let pending = try await harness.request(.get, "/v1/preprints/\(DashboardFixture.preprintB)/badge.svg", key: nil)
            let unknown = try await harness.request(.get, "/v1/preprints/arXiv:2409.99999/badge.svg", key: nil)
            #expect(String(buffer: pending.body).contains("not yet scored"))
            #expect(String(buffer: pending.body) == String(buffer: unknown.body))
            let bad = try await harness.request(.get, "/v1/preprints/not-an-id/badge.svg", key: nil)
            #expect(bad.status == .badRequest)
        }
    }

    @Test("the study page's runs table reads a page of runs in id order, and the count of all of them")
    func runsPage() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let fixture = try await DashboardFixture.make(harness)
            let studies = harness.services.studies
            let all = try await studies.runs(fixture.studyA)
            #expect(all.count >= 3)
            let first = try await studies.runs(fixture.studyA, limit: 2)
            #expect(first.map(\.id) == Array(all.prefix(2).map(\.id)))
            #expect(first.map(\.metrics) == Array(all.prefix(2).map(\.metrics)), "each run keeps its metrics")
            #expect(try await studies.runCount(fixture.studyA) == all.count)
            let next = try await studies.runs(fixture.studyA, limit: 2, after: first[1].id)
            #expect(next.map(\.id) == Array(all.dropFirst(2).prefix(2).map(\.id)), "the next page starts after the last shown")
            // The page's parameter: a bad value is a 400 naming it, a good one shows the runs after it.
            let owner = fixture.keys["researcherA"]!
            let bad = try await harness.request(.get, "/studies/\(fixture.studyA)?runs_after=x", key: owner)
            #expect(bad.status == .badRequest)
            let paged = String(
                buffer: try await harness.request(.get, "/studies/\(fixture.studyA)?runs_after=\(first[1].id)", key: owner).body)
            #expect(!paged.contains("<tr><td>\(first[0].id)</td>"))
            #expect(paged.contains("<tr><td>\(all[2].id)</td>"))
            #expect(paged.contains("First runs"))
            #expect(!paged.contains("params (MLflow)"), "no params column when no run logged params")
        }
    }

    @Test("the study page's kept report follows the study: a run taken out and put back changes the page each time")
    func studyPageCacheFollowsTheRuns() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let fixture = try await DashboardFixture.make(harness)
            let funder = fixture.keys["funder"]!
            func page() async throws -> (runs: Int, text: String) {
                let html = String(buffer: try await harness.request(.get, "/studies/\(fixture.studyA)", key: funder).body)
                // A dot per run in the strip plot and another in the claim plot.
                return (Self.occurrences("<circle class=\"run\"", in: html) / 2, html)
            }
            #expect(try await page().runs == fixture.acceptedRuns)
            #expect(try await page().runs == fixture.acceptedRuns, "the second view, from the cache, is the same")
            // What a quarantine does to a run: it leaves the report, then comes back.
            let rows = try await harness.database.client.query(
                "SELECT max(id) FROM runs WHERE study_id = \(fixture.studyA) AND accepted")
            var last: Int64 = 0
            for try await id in rows.decode(Int64.self) { last = id }
            try await harness.database.client.query("UPDATE runs SET accepted = false WHERE id = \(last)")
            let without = try await page()
            #expect(without.runs == fixture.acceptedRuns - 1)
            #expect(without.text.contains("\(fixture.acceptedRuns - 1) accepted runs"))
            try await harness.database.client.query("UPDATE runs SET accepted = true WHERE id = \(last)")
            #expect(try await page().runs == fixture.acceptedRuns)
        }
    }

    /// Hostile strings must never reach the page as markup.
    static func checkInert(_ html: String, _ where: String) {
        #expect(!html.contains("<script>alert"), "\(`where`): a raw <script> from user text")
        #expect(!html.contains("<img src=x"), "\(`where`): a raw <img> from user text")
        #expect(!html.lowercased().contains("href=\"javascript:"), "\(`where`): a javascript: link")
        #expect(!html.contains("onerror=alert(1)>"), "\(`where`): an unescaped attribute")
    }

    static func occurrences(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    static func attribute(_ name: String, ofElementWithID id: String, in html: String) -> String? {
        guard let element = html.range(of: "id=\"\(id)\"") else { return nil }
        let start = html[..<element.lowerBound].lastIndex(of: "<") ?? element.lowerBound
        let tail = html[start...]
        guard let attribute = tail.range(of: "\(name)=\"") else { return nil }
        return String(tail[attribute.upperBound...].prefix { $0 != "\"" })
    }
}
