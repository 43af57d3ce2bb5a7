import Foundation
import HTTPTypes
import NIOCore
import ReproCore
import Testing

@testable import ReproCoordinator

/// The funders' table: every filter and sort, keyset pagination while rows are added, CSV quoting,
/// funder and institution summaries, DOIs in paths and the role rules.
@Suite("Funders' queries", .serialized)
struct ScoresQueryTests {
    static let old = Date(timeIntervalSince1970: 1_577_836_800)  // 2020-01-01

    /// Five preprints with hand-picked metadata and scores.
    static func seed(_ harness: CoordinatorHarness) async throws -> (researcher: String, funder: String) {
        let researcher = try await harness.key(.researcher)
        let funder = try await harness.key(.funder)
        try await harness.putPreprint(
            "2401.00001", title: "Alpha, with comma", institutions: ["MIT"], field: "cs.LG",
            funding: [.init(funder: "NSF", grant: "N-1")], key: researcher)
        try await harness.putPreprint(
            "2401.00002", title: "Beta \"quoted\"", institutions: ["ETH Zürich"], field: "cs.CV",
            funding: [.init(funder: "ERC", grant: "E-7")], key: researcher)
        try await harness.putPreprint(
            "2401.00003", title: "Gamma\nmultiline", institutions: ["MIT", "ETH Zürich"], field: "cs.LG",
            funding: [.init(funder: "NSF", grant: "N-2"), .init(funder: "ERC", grant: "E-7")], key: researcher)
        try await harness.putPreprint(
            "2401.00004", title: "Δelta ünïcode", institutions: ["Oxford"], field: "stat.ML", key: researcher)
        try await harness.putPreprint(
            "doi:10.5555%2FXYZ.1", title: "Epsilon", institutions: ["MIT"], field: "cs.LG",
            funding: [.init(funder: "NSF", grant: "N-1")], key: researcher)
        try await harness.setScore("arXiv:2401.00001", score: 70.09, k: 9, K: 9, runs: 90, badge: "reproduced", updatedAt: old)
        try await harness.setScore("arXiv:2401.00002", score: 45.26, k: 7, K: 9, runs: 40)
        try await harness.setScore("arXiv:2401.00003", score: 43.85, k: 3, K: 3, runs: 12, badge: "reproduced")
        try await harness.setScore("arXiv:2401.00004", score: nil, completed: false)
        try await harness.setScore("doi:10.5555/xyz.1", score: 74.38, k: 27, K: 30, runs: 300)
        return (researcher, funder)
    }

    static func ids(_ harness: CoordinatorHarness, _ query: String, key: String) async throws -> [String] {
        let page: ScorePage = try await harness.call(.get, "/v1/scores?" + query, key: key)
        return page.rows.map(\.preprintID)
    }

    @Test("every filter and sort")
    func filtersAndSorts() async throws {
        try await CoordinatorHarness.run { harness in
            let (_, funder) = try await Self.seed(harness)
            let p1 = "arXiv:2401.00001", p2 = "arXiv:2401.00002", p3 = "arXiv:2401.00003"
            let p4 = "arXiv:2401.00004", p5 = "doi:10.5555/xyz.1"
            let cases: [(String, [String])] = [
                ("", [p5, p1, p2, p3, p4]),
                ("sort=score&order=asc", [p4, p3, p2, p1, p5]),
                ("sort=runs", [p5, p1, p2, p3, p4]),
                ("sort=runs&order=asc", [p4, p3, p2, p1, p5]),
                ("sort=date&order=asc&limit=1", [p1]),
                ("funder=nsf", [p5, p1, p3]),
                ("grant=E-7", [p2, p3]),
                ("institution=mit", [p5, p1, p3]),
                ("institution=ETH%20Z%C3%BCrich", [p2, p3]),
                ("field=CS.LG", [p5, p1, p3]),
                ("min_score=45", [p5, p1, p2]),
                ("max_score=45", [p3]),
                ("min_score=44&max_score=71", [p1, p2]),
                ("scored_only=true", [p5, p1, p2, p3]),
                ("updated_since=2021-01-01", [p5, p2, p3, p4]),
                ("funder=NSF&field=cs.LG&min_score=71", [p5]),
            ]
            for (query, expected) in cases {
                let got = try await Self.ids(harness, query, key: funder)
                if query == "updated_since=2021-01-01" {
                    #expect(Set(got) == Set(expected), "\(query)")
                } else {
                    #expect(got == expected, "\(query)")
                }
            }
            let page: ScorePage = try await harness.call(.get, "/v1/scores?funder=NSF&limit=1", key: funder)
            let row = try #require(page.rows.first)
            #expect(row.title == "Epsilon")
            #expect(row.reproduced == 27 && row.decided == 30 && row.runs == 300)
            #expect(row.funding == [FundingEntry(funder: "NSF", grant: "N-1")])
            #expect(page.nextCursor != nil)

            let bad: [(String, String)] = [
                ("min_score=abc", "min_score"), ("max_score=101", "max_score"), ("sort=title", "sort"),
                ("order=up", "order"), ("limit=0", "limit"), ("limit=5000", "limit"), ("cursor=zzz", "cursor"),
                ("updated_since=yesterday", "updated_since"), ("scored_only=maybe", "scored_only"),
                ("format=xml", "format"), ("min_score=60&max_score=50", "min_score"),
            ]
            for (query, field) in bad {
                let response = try await harness.request(.get, "/v1/scores?" + query, key: funder)
                #expect(response.status == .badRequest, "\(query)")
                #expect(try CoordinatorHarness.problem(response).field == field, "\(query)")
            }
            // A cursor made for another sort is refused rather than misread.
            let cursor = try #require(page.nextCursor)
            let mixed = try await harness.request(.get, "/v1/scores?sort=runs&cursor=\(cursor)", key: funder)
            #expect(try CoordinatorHarness.problem(mixed).field == "cursor")
        }
    }

    @Test("pagination: rows added while paging never repeat a row or skip one", arguments: ["score", "runs", "date"])
    func paginationWhileInserting(sort: String) async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let funder = try await harness.key(.funder)
            var initial: Set<String> = []
            for index in 0..<23 {
                let id = String(format: "2403.%05d", index)
                try await harness.putPreprint(id, title: "P\(index)", key: researcher)
                // Few distinct keys, so ties across page boundaries are common.
                try await harness.setScore(
                    "arXiv:\(id)", score: index % 4 == 0 ? nil : Double(index % 3) * 20, runs: index % 5,
                    updatedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index % 6)))
                initial.insert("arXiv:\(id)")
            }
            for order in ["desc", "asc"] {
                var seen: [String] = []
                var cursor: String?
                var added = 0
                repeat {
                    let query = "sort=\(sort)&order=\(order)&limit=4" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page: ScorePage = try await harness.call(.get, "/v1/scores?" + query, key: funder)
                    seen += page.rows.map(\.preprintID)
                    cursor = page.nextCursor
                    // New rows at both ends and in the middle of the order.
                    let id = String(format: "2404.%05d", added + (order == "asc" ? 100 : 0))
                    try await harness.putPreprint(id, title: "New \(added)", key: researcher)
                    try await harness.setScore(
                        "arXiv:\(id)", score: [nil, 0, 20, 40, 99][added % 5], runs: added % 7,
                        updatedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(added % 8)))
                    added += 1
                } while cursor != nil
                #expect(seen.count == Set(seen).count, "\(sort) \(order): a row came twice")
                #expect(initial.isSubset(of: Set(seen)), "\(sort) \(order): rows missed")
                initial = initial.union(seen)
            }
        }
    }

    @Test("CSV: RFC 4180 quoting of commas, quotes and newlines; UTF-8 titles kept")
    func csvExport() async throws {
        try await CoordinatorHarness.run { harness in
            let (_, funder) = try await Self.seed(harness)
            let response = try await harness.request(.get, "/v1/scores?format=csv", key: funder)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
            let text = String(buffer: response.body)
            #expect(text.hasPrefix(ScoresCSV.header.joined(separator: ",") + "\r\n"))
            #expect(text.contains("arXiv:2401.00001,\"Alpha, with comma\",MIT,cs.LG,NSF: N-1,70.09,9,9,0,90,reproduced,"))
            #expect(text.contains("\"Beta \"\"quoted\"\"\""))
            #expect(text.contains("\"Gamma\nmultiline\""))
            #expect(text.contains(",Δelta ünïcode,Oxford,stat.ML,,,0,0,0,0,,"))
            let records = Self.parseCSV(text)
            #expect(records.count == 6)
            #expect(records.dropFirst().map { $0[1] } == ["Epsilon", "Alpha, with comma", "Beta \"quoted\"", "Gamma\nmultiline", "Δelta ünïcode"])
            #expect(records.allSatisfy { $0.count == ScoresCSV.header.count })

            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(funder)"
            headers[.accept] = "text/csv"
            let accepted = try await harness.client.execute(uri: "/v1/scores?limit=2", method: .get, headers: headers, body: nil)
            #expect(String(buffer: accepted.body).hasPrefix("preprint_id,title,"))
            #expect(accepted.headers[HTTPField.Name("X-Next-Cursor")!] != nil)
        }
    }

    /// A strict RFC 4180 reader, to prove the output parses back to the values.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if quoted {
                if character == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\r\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(character)
            }
        }
        return records
    }

    @Test("funder and institution summaries match hand-computed numbers")
    func groupSummaries() async throws {
        try await CoordinatorHarness.run { harness in
            let (_, funder) = try await Self.seed(harness)
            let nsf: ScoreGroupSummary = try await harness.call(.get, "/v1/funders/nsf/summary", key: funder)
            #expect(nsf.preprints == 3)
            #expect(nsf.scored == 3)
            // Scores 43.85, 70.09, 74.38: p25 = 43.85 + 0.5 · 26.24, p75 = 70.09 + 0.5 · 4.29.
            let q = try #require(nsf.quantiles)
            #expect(q.min == 43.85 && q.median == 70.09 && q.max == 74.38)
            #expect(abs(q.p25 - 56.97) < 1e-9)
            #expect(abs(q.p75 - 72.235) < 1e-9)
            #expect(abs(nsf.reproducedBadgeShare! - 2.0 / 3.0) < 1e-12)
            #expect(nsf.meanRunsPerPreprint == 134)
            #expect(nsf.grants.map(\.grant) == ["N-1", "N-2"])
            #expect(nsf.grants[0].preprints.map(\.preprintID) == ["arXiv:2401.00001", "doi:10.5555/xyz.1"])

            let eth: ScoreGroupSummary = try await harness.call(
                .get, "/v1/institutions/ETH%20Z%C3%BCrich/summary", key: funder)
            #expect(eth.name == "ETH Zürich")
            #expect(eth.preprints == 2 && eth.scored == 2)
            #expect(eth.meanRunsPerPreprint == 26)
            #expect(eth.grants.map { "\($0.funder)/\($0.grant ?? "")" } == ["ERC/E-7", "NSF/N-2"])
            #expect(eth.grants[0].preprints.count == 2)

            let nobody: ScoreGroupSummary = try await harness.call(.get, "/v1/funders/Nobody/summary", key: funder)
            #expect(nobody.preprints == 0 && nobody.quantiles == nil && nobody.reproducedBadgeShare == nil)
        }
    }

    @Test("preprint records: DOIs with %2F in paths, metadata updates, feedback beside the score")
    func preprintRecords() async throws {
        try await CoordinatorHarness.run { harness in
            let (researcher, funder) = try await Self.seed(harness)
            let record: PreprintRecord = try await harness.call(.get, "/v1/preprints/doi:10.5555%2Fxyz.1", key: funder)
            #expect(record.id == "doi:10.5555/xyz.1")
            #expect(record.score?.score == 74.38)
            #expect(record.feedback.items == 0)
            let upper: PreprintRecord = try await harness.call(.get, "/v1/preprints/10.5555%2FXYZ.1", key: funder)
            #expect(upper.id == record.id)
            // The existing live score route takes the same encoded DOI.
            let score = try await harness.request(.get, "/v1/preprints/doi:10.5555%2FXYZ.1/score", key: funder)
            #expect(score.status == .ok)
            // An unencoded slash splits the DOI over two segments: no such route.
            let split = try await harness.request(.get, "/v1/preprints/doi:10.5555/xyz.1/score", key: funder)
            #expect(split.status == .notFound)

            let updated: PreprintRecord = try await harness.call(
                .put, "/v1/preprints/2401.00004v3", key: researcher,
                json: PreprintUpdate(title: "Delta, renamed", institutions: ["Oxford"], date: "2024-02-29"))
            #expect(updated.id == "arXiv:2401.00004")
            #expect(updated.date == "2024-02-29")
            let rows = try await Self.ids(harness, "institution=oxford", key: funder)
            #expect(rows == ["arXiv:2401.00004"])
            let page: ScorePage = try await harness.call(.get, "/v1/scores?institution=oxford", key: funder)
            #expect(page.rows.first?.title == "Delta, renamed")

            let badDate = try await harness.request(
                .put, "/v1/preprints/2401.00004", key: researcher, json: PreprintUpdate(title: "x", date: "2023-02-29"))
            #expect(try CoordinatorHarness.problem(badDate).field == "date")
            let badTitle = try await harness.request(
                .put, "/v1/preprints/2401.00004", key: researcher, json: PreprintUpdate(title: "  "))
            #expect(try CoordinatorHarness.problem(badTitle).field == "title")
            let badFunding = try await harness.request(
                .put, "/v1/preprints/2401.00004", key: researcher,
                json: PreprintUpdate(title: "x", funding: [.init(funder: "")]))
            #expect(try CoordinatorHarness.problem(badFunding).field == "funding[0].funder")
            let missing = try await harness.request(.get, "/v1/preprints/2499.00001", key: funder)
            #expect(missing.status == .notFound)
        }
    }

    @Test("funders read everything and write nothing; community cannot moderate")
    func roleRules() async throws {
        try await CoordinatorHarness.run { harness in
            let (_, funder) = try await Self.seed(harness)
            let community = try await harness.key(.community)
            let item = try await harness.postFeedback("2401.00001", FeedbackPost(verdict: .reproduced), key: community)
                .feedback.id
            let reads = [
                "/v1/scores", "/v1/funders/NSF/summary", "/v1/institutions/MIT/summary", "/v1/preprints/2401.00001",
                "/v1/preprints/2401.00001/score/history", "/v1/preprints/2401.00001/feedback",
                "/v1/preprints/2401.00001/feedback/summary",
            ]
            for path in reads {
                let response = try await harness.request(.get, path, key: funder)
                #expect(response.status == .ok, "\(path)")
            }
            let writes: [(HTTPRequest.Method, String, Data)] = [
                (.put, "/v1/preprints/2401.00001", Data(#"{"title":"x"}"#.utf8)),
                (.post, "/v1/preprints/2401.00001/feedback", Data(#"{"verdict":"comment"}"#.utf8)),
                (.put, "/v1/feedback/\(item)/vote", Data(#"{"vote":"helpful"}"#.utf8)),
                (.delete, "/v1/feedback/\(item)/vote", Data()),
                (.post, "/v1/feedback/\(item)/hide", Data(#"{"reason":"x"}"#.utf8)),
            ]
            for (method, path, body) in writes {
                let response = try await harness.request(method, path, key: funder, body: body)
                #expect(response.status == .forbidden, "\(method) \(path)")
            }
            let hide = try await harness.request(
                .post, "/v1/feedback/\(item)/hide", key: community, json: FeedbackHide(reason: "x"))
            #expect(hide.status == .forbidden)
            let anonymous = try await harness.request(.get, "/v1/scores", key: nil)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test("public-read paths are the funders' read routes only")
    func publicReadPaths() {
        for path in [
            "/v1/scores", "/v1/funders/NSF/summary", "/v1/institutions/MIT/summary", "/v1/preprints/2401.00001",
            "/v1/preprints/2401.00001/feedback", "/v1/preprints/2401.00001/feedback/summary",
            "/v1/preprints/2401.00001/score/history",
        ] {
            #expect(PublicReadMiddleware.isPublicPath(path), "\(path)")
        }
        for path in [
            "/v1/studies", "/v1/preprints/2401.00001/score", "/v1/studies/x/report", "/v1/accounts", "/v1/leases",
            "/v1/funders/NSF", "/v1/feedback/x/vote",
        ] {
            #expect(!PublicReadMiddleware.isPublicPath(path), "\(path)")
        }
    }
}
