import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReproCore
import ReproStats
import Testing

@testable import ReproCoordinator

/// Regression tests of the defects issue 11 lists (its numbers in each test's name): bad input an
/// outside tester found answered with 5xx, 404 or an empty body where the contract says 4xx with a
/// problem document naming the field.
@Suite("Contract defects of issue 11", .serialized)
struct ContractDefectTests {
    static func submit(_ harness: CoordinatorHarness, _ spec: String, key: String) async throws -> TestResponse {
        try await harness.request(.post, "/v1/studies", key: key, body: Data(spec.utf8), contentType: "application/yaml")
    }

    static func issuePaths(_ response: TestResponse) throws -> [String] {
        try CoordinatorHarness.problem(response).issues?.map(\.path) ?? []
    }

    @Test("1: a NUL in a configuration parameter value is 422 naming the field, not 503")
    func nulInConfigurationValue() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let spec = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1)
                .replacingOccurrences(of: "  replicas: 1", with: "  replicas: 1\n  configurations: {small: {hidden: \"3\\02\"}}")
                .replacingOccurrences(of: "\"{dataset}\"]", with: "\"{dataset}\", \"--hidden\", \"{hidden}\"]")
            let response = try await Self.submit(harness, spec, key: researcher)
            #expect(response.status.code == 422)
            #expect(try Self.issuePaths(response) == ["matrix.configurations.small.hidden"])
        }
    }

    @Test("2: a 3 000-character DOI, funder or institution in a spec is 422 with PUT's limits, not 503")
    func longTextInSpec() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let long = String(repeating: "x", count: 3_000)
            let base = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1)
            let cases: [(String, String)] = [
                (base.replacingOccurrences(of: "id: \"arXiv:2401.01234\"", with: "id: \"10.1234/\(long)\""), "preprint.id"),
                (base.replacingOccurrences(of: "funder: \"Example Foundation\"", with: "funder: \"\(long)\""),
                    "preprint.funding[0].funder"),
                (base.replacingOccurrences(of: "[\"Example University\"]", with: "[\"\(long)\"]"), "preprint.institutions[0]"),
                (base.replacingOccurrences(of: "Small MLPs are enough", with: String(repeating: "t", count: 501)), "preprint.title"),
            ]
            for (spec, path) in cases {
                let response = try await Self.submit(harness, spec, key: researcher)
                #expect(response.status.code == 422, "\(path)")
                #expect(try Self.issuePaths(response) == [path])
            }
            // The same DOI through PUT is refused the same way, as a path parameter.
            let put = try await harness.request(
                .put, "/v1/preprints/10.1234%2F\(long)", key: researcher, json: PreprintUpdate(title: "t"))
            #expect(put.status == .badRequest)
            #expect(try CoordinatorHarness.problem(put).field == "id")
        }
    }

    @Test("4: a NUL in a preprint id in the path is 400 on every preprint route, not 500 or 503")
    func nulInPreprintPath() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let id = "10.1234%2Fa%00b"
            let requests: [(HTTPRequest.Method, String, (any Encodable)?)] = [
                (.get, "/v1/preprints/\(id)", nil),
                (.put, "/v1/preprints/\(id)", PreprintUpdate(title: "t")),
                (.get, "/v1/preprints/\(id)/score", nil),
                (.get, "/v1/preprints/\(id)/score/history", nil),
                (.get, "/v1/preprints/\(id)/feedback", nil),
                (.get, "/v1/preprints/\(id)/feedback/summary", nil),
                (.post, "/v1/preprints/\(id)/feedback", FeedbackPost(verdict: .comment)),
            ]
            for (method, path, body) in requests {
                let data = try body.map { try WireCoding.encoder().encode($0) }
                let response = try await harness.request(method, path, key: researcher, body: data)
                #expect(response.status == .badRequest, "\(method) \(path)")
                #expect(try CoordinatorHarness.problem(response).field == "id", "\(method) \(path)")
            }
        }
    }

    @Test("5: a cursor whose decoded id holds a NUL is 400, not 500")
    func nulInCursor() async throws {
        try await CoordinatorHarness.run { harness in
            let funder = try await harness.key(.funder)
            let cursor = ScoreQuery.Cursor(sort: "score", direction: "desc", key: 1, id: "2401\u{0}01234").encoded()
            let page = try await harness.request(.get, "/v1/scores?cursor=\(cursor)", key: funder)
            #expect(page.status == .badRequest)
            #expect(try CoordinatorHarness.problem(page).field == "cursor")
        }
    }

    @Test("6: an undeclared method on a known path is 405 with Allow, not 404")
    func methodNotAllowed() async throws {
        try await CoordinatorHarness.run { harness in
            let funder = try await harness.key(.funder)
            let scores = try await harness.request(.delete, "/v1/scores", key: funder)
            #expect(scores.status.code == 405)
            #expect(scores.headers[.allow] == "GET")
            #expect(try CoordinatorHarness.problem(scores).status == 405)
            // Also without a key, and on a templated path with two methods.
            let vote = try await harness.request(.post, "/v1/feedback/\(UUID())/vote", key: nil)
            #expect(vote.status.code == 405)
            #expect(vote.headers[.allow] == "DELETE, PUT")
            // An unknown path stays 404.
            let missing = try await harness.request(.delete, "/v1/nothing-here", key: funder)
            #expect(missing.status == .notFound)
        }
    }

    @Test("7: a 100 KB bearer key gets a problem document (431), not an empty 400")
    func oversizedAuthorization() async throws {
        try await CoordinatorHarness.run(testing: .live) { harness in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer " + String(repeating: "k", count: 100_000)
            let response = try await harness.client.execute(uri: "/v1/scores", method: .get, headers: headers, body: nil)
            #expect(response.status.code == 431)
            let problem = try CoordinatorHarness.problem(response)
            #expect(problem.status == 431)
            #expect(problem.detail.contains("80 KiB"))
        }
    }

    @Test("8: public routes ignore a wrong or revoked key")
    func publicRoutesIgnoreCredentials() async throws {
        try await CoordinatorHarness.run { harness in
            for path in ["/healthz", "/readyz", "/openapi.yaml", "/v1/signing-keys"] {
                for header in ["Bearer rg_not_a_real_key", "Basic dXNlcjpwYXNz"] {
                    var headers = HTTPFields()
                    headers[.authorization] = header
                    let response = try await harness.client.execute(uri: path, method: .get, headers: headers, body: nil)
                    #expect(response.status == .ok, "\(path) with \(header)")
                }
            }
            // A guarded route still refuses the same key, saying why.
            let guarded = try await harness.request(.get, "/v1/scores", key: "rg_not_a_real_key")
            #expect(guarded.status == .unauthorized)
            #expect(try CoordinatorHarness.problem(guarded).detail.contains("revoked"))
        }
    }

    @Test("12: a + in a query string is a space, for every text filter of /v1/scores")
    func plusIsSpace() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let funder = try await harness.key(.funder)
            try await harness.putPreprint(
                "2401.00001", institutions: ["Example University"], field: "machine learning",
                funding: [.init(funder: "Hidden Trust", grant: "HT 1")], key: researcher)
            try await harness.putPreprint("2401.00002", institutions: ["Other"], field: "cs.CV", key: researcher)
            for query in [
                "funder=hidden+trust", "grant=HT+1", "institution=Example+University", "field=machine+learning",
                "funder=hidden%20trust", "fun%64er=hidden+trust",
            ] {
                let ids = try await ScoresQueryTests.ids(harness, query, key: funder)
                #expect(ids == ["arXiv:2401.00001"], "\(query)")
            }
            // An encoded plus stays a plus.
            #expect(try await ScoresQueryTests.ids(harness, "funder=hidden%2Btrust", key: funder).isEmpty)
            #expect(try QueryParameters(query: "a=x+y%2Bz&b")["a"] == "x y+z")
            #expect(try QueryParameters(query: "a=x+y%2Bz&b")["b"] == "")
        }
    }
}

extension ContractDefectTests {
    @Test("3: Chinese feedback of 950 characters without spaces is accepted, with character bigrams as key phrases")
    func longCJKFeedback() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let community = try await harness.key(.community)
            try await harness.putPreprint("2401.01234", key: researcher)
            // Distinct ideographs, so the text does not compress: PostgreSQL compresses index entries, and a
            // repeated sentence of the same length fitted the index even before the fix.
            let distinct = String((0..<940).map { Character(UnicodeScalar(0x4E00 + $0 * 13)!) })
            let text = distinct + "复现失败复现失败复现"
            #expect(text.count == 950)
            let posted = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .notReproduced, text: text), key: community)
            #expect(posted.feedback.text == text)
            let summary: FeedbackSummary = try await harness.call(
                .get, "/v1/preprints/2401.01234/feedback/summary", key: researcher)
            #expect(summary.keyPhrases.contains { $0.phrase == "复现" })
            #expect(summary.keyPhrases.allSatisfy { $0.phrase.count <= ReproStats.KeyPhrases.maxTermLength })
            // A 900-letter Latin "word" (a pasted blob) is accepted too, and is no key phrase.
            let blob = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .comment, text: String(repeating: "ab", count: 450) + " diverged"),
                key: try await harness.key(.community, name: "other"))
            #expect(blob.feedback.text.count == 909)
        }
    }

    @Test("11: an author cannot vote their own feedback (409), others can")
    func noSelfVote() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let author = try await harness.key(.community, name: "author")
            let other = try await harness.key(.community, name: "other")
            try await harness.putPreprint("2401.01234", key: researcher)
            let posted = try await harness.postFeedback("2401.01234", FeedbackPost(verdict: .comment, text: "ok"), key: author)
            let path = "/v1/feedback/\(posted.feedback.id)/vote"
            let own = try await harness.request(.put, path, key: author, json: FeedbackVote(vote: .helpful))
            #expect(own.status == .conflict)
            #expect(try CoordinatorHarness.problem(own).detail.contains("your own feedback"))
            let votes: FeedbackVotes = try await harness.call(.put, path, key: other, json: FeedbackVote(vote: .helpful))
            #expect(votes.helpful == 1)
        }
    }
}
