import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReproCore
import Testing

@testable import ReproCoordinator

/// The gaps an audit of issue 11 found after its defects were fixed: the dashboard's forms and query
/// strings bypassed the one NUL rule and the one form decoder, the generic spec text limit and the
/// public routes' indifference to revoked and expired keys had no test, and results stored two fields
/// without a limit.
@Suite("Contract gaps of issue 11", .serialized)
struct ContractGapTests {
    @Test("a NUL in a dashboard form or query is 400 naming the field, and nothing is stored")
    func nulInDashboardForms() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let researcher = try await harness.key(.researcher)
            _ = try await harness.putPreprint("2401.00001", key: researcher)
            let community = try await DashboardBrowser.signIn(harness.client, key: try await harness.key(.community))
            let path = "/preprints/arXiv:2401.00001/feedback"
            // The field's name, or nil for a NUL in a name (which the page cannot show as it is).
            let cases: [(form: String, field: String?)] = [
                ("verdict=comment&text=a%00b", "text"), ("verdict=comment&text=ok&tags=seed%00sensitive", "tags"),
                ("verdict=comment&te%00xt=ok", nil),
            ]
            for (form, field) in cases {
                let posted = try await community.post(path, form: "csrf=\(community.csrf)&\(form)")
                #expect(posted.status == .badRequest, "\(form)")
                if let field { #expect(posted.text.contains("\(field) contains a NUL"), "\(form)") }
            }
            let stored = try await harness.database.client.query("SELECT count(*) FROM feedback")
            for try await count in stored.decode(Int.self) { #expect(count == 0) }
            // The same form without NUL is posted, so the refusals above were about NUL alone.
            let fine = try await community.post(path, form: "csrf=\(community.csrf)&verdict=comment&text=a+b")
            #expect(fine.status == .seeOther)
            let text = try await harness.database.client.query("SELECT body FROM feedback")
            for try await value in text.decode(String.self) { #expect(value == "a b") }

            // Dashboard query strings go through the same reader.
            let page = try await community.get("/preprints?funder=a%00b")
            #expect(page.status == .badRequest)
            #expect(page.text.contains("funder contains a NUL"))
            #expect(throws: Problem.self) { try QueryParameters(query: "a=%00") }
            #expect(throws: Problem.self) { try QueryParameters(query: "%00=a") }
        }
    }

    @Test("a + in a dashboard query is a space: the preprints filter finds \"Example Foundation\"")
    func plusInDashboardQuery() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let researcher = try await harness.key(.researcher)
            _ = try await harness.putPreprint(
                "2401.00001", title: "FOUND-BY-PLUS", funding: [.init(funder: "Example Foundation", grant: "EF 1")],
                key: researcher)
            _ = try await harness.putPreprint(
                "2401.00002", title: "OTHER-FUNDER", funding: [.init(funder: "Other Trust")], key: researcher)
            let funder = try await DashboardBrowser.signIn(harness.client, key: try await harness.key(.funder))
            for query in ["funder=Example+Foundation", "grant=EF+1", "funder=example+foundation&institution=Example+University"] {
                let page = try await funder.get("/preprints?\(query)")
                #expect(page.status == .ok, "\(query)")
                #expect(page.text.contains("FOUND-BY-PLUS"), "\(query)")
                #expect(!page.text.contains("OTHER-FUNDER"), "\(query)")
                // The form is shown again with the decoded value, not the encoded one.
                #expect(!page.text.contains("Example+Foundation"), "\(query)")
            }
            // An encoded plus stays a plus and matches nothing.
            let plus = try await funder.get("/preprints?funder=Example%2BFoundation")
            #expect(!plus.text.contains("FOUND-BY-PLUS"))
            #expect(plus.text.contains("No preprints match."))
        }
    }

    @Test("a spec string or key over 4 096 characters is 422 naming its path; 4 096 is accepted")
    func specTextLimit() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let base = CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1)
            func argument(_ length: Int) -> String { "--note=" + String(repeating: "n", count: length - 7) }
            let cases: [(String, String)] = [
                (base.replacingOccurrences(of: "\"{dataset}\"]", with: "\"{dataset}\", \"\(argument(4_097))\"]"),
                    "run.command[6]"),
                (base.replacingOccurrences(of: "requirements: requirements.txt", with: "requirements: \(String(repeating: "r", count: 4_097))"),
                    "environment.python.requirements"),
                // An explicit key (`? key`): YAML allows implicit keys of at most 1 024 characters.
                (base.replacingOccurrences(
                    of: "  replicas: 1",
                    with: "  replicas: 1\n  configurations:\n    small:\n      ? \(String(repeating: "k", count: 4_097))\n      : 1"),
                    "matrix.configurations.small.\(String(repeating: "k", count: 4_097))"),
            ]
            for (spec, path) in cases {
                let response = try await ContractDefectTests.submit(harness, spec, key: researcher)
                #expect(response.status.code == 422, "\(path.prefix(40))")
                let issues = try CoordinatorHarness.problem(response).issues ?? []
                #expect(issues.map(\.path) == [path], "\(path.prefix(40))")
                #expect(issues.first?.reason.contains("at most 4096 characters") == true)
            }
            let longest = base.replacingOccurrences(of: "\"{dataset}\"]", with: "\"{dataset}\", \"\(argument(4_096))\"]")
            let accepted = try await ContractDefectTests.submit(harness, longest, key: researcher)
            #expect(accepted.status == .created)
        }
    }

    @Test("a result's hardware_class over 200 characters or fingerprint over 64 KiB is 400 naming the field")
    func resultFieldLimits() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            _ = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: researcher)
            let worker = try await harness.worker()
            let leased: LeaseResponse = try await harness.call(
                .post, "/v1/leases", key: worker.token, json: LeaseRequest(max: 1, wait: 0))
            let lease = try #require(leased.leases.first)
            func result(hardware: String?, fingerprint: JSONValue?) -> TaskResult {
                TaskResult(
                    taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: 1,
                    metrics: ["accuracy": 0.96], error: nil, logTail: nil, fingerprint: fingerprint, hardwareClass: hardware)
            }
            let big = JSONValue.object(["packages": .string(String(repeating: "p", count: 70_000))])
            let refusals: [(TaskResult, String)] = [
                (result(hardware: String(repeating: "h", count: 201), fingerprint: nil), "hardware_class"),
                (result(hardware: "cpu", fingerprint: big), "fingerprint"),
            ]
            for (body, field) in refusals {
                let single = try await harness.request(.post, "/v1/tasks/\(lease.taskID)/result", key: worker.token, json: body)
                #expect(single.status == .badRequest, "\(field)")
                #expect(try CoordinatorHarness.problem(single).field == field)
                let batch = try await harness.request(.post, "/v1/results", key: worker.token, json: ResultBatch(results: [body]))
                #expect(batch.status == .badRequest, "\(field)")
                #expect(try CoordinatorHarness.problem(batch).field == "results[0].\(field)")
            }
            let runs = try await harness.database.client.query("SELECT count(*) FROM runs")
            for try await count in runs.decode(Int.self) { #expect(count == 0) }
            // At the limits the result is accepted.
            let fitting = JSONValue.object(["packages": .string(String(repeating: "p", count: 60_000))])
            let receipt: ResultReceipt = try await harness.call(
                .post, "/v1/tasks/\(lease.taskID)/result", key: worker.token,
                json: result(hardware: String(repeating: "h", count: 200), fingerprint: fitting))
            #expect(receipt.status == .accepted)
        }
    }

    @Test("a cursor past a preprint with a long DOI is longer than 200 characters and is accepted back")
    func longCursor() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let funder = try await harness.key(.funder)
            let suffix = String(repeating: "s", count: 180)
            for index in 1...2 {
                _ = try await harness.putPreprint("10.5555%2F\(index)\(suffix)", key: researcher)
            }
            let first: ScorePage = try await harness.call(.get, "/v1/scores?limit=1", key: funder)
            let cursor = try #require(first.nextCursor)
            #expect(cursor.count > 200)
            let second: ScorePage = try await harness.call(.get, "/v1/scores?limit=1&cursor=\(cursor)", key: funder)
            #expect(second.rows.count == 1)
            #expect(second.rows.first?.preprintID != first.rows.first?.preprintID)
        }
    }

    @Test("public routes ignore a real key that was revoked or has expired (200), guarded ones refuse it")
    func publicRoutesIgnoreRevokedAndExpiredKeys() async throws {
        try await CoordinatorHarness.run { harness in
            let account = try await harness.account([.researcher], name: "keys")
            let spare: APIKeyCreated = try await harness.call(.post, "/v1/accounts/me/keys", key: account.key)
            let revoked: APIKeyCreated = try await harness.call(.post, "/v1/accounts/me/keys", key: account.key)
            let _: APIKeyInfo = try await harness.call(.delete, "/v1/accounts/me/keys/\(revoked.info.id)", key: spare.key)
            let expired: APIKeyCreated = try await harness.call(.post, "/v1/accounts/me/keys", key: account.key)
            try await harness.database.client.query(
                "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = \(expired.info.id)")
            for (name, key) in [("revoked", revoked.key), ("expired", expired.key)] {
                // The key is real and refused where a key matters, so the public routes' 200 is not luck.
                let guarded = try await harness.request(.get, "/v1/accounts/me/keys", key: key)
                #expect(guarded.status == .unauthorized, "\(name)")
                for path in ["/healthz", "/readyz", "/openapi.yaml"] {
                    let response = try await harness.request(.get, path, key: key)
                    #expect(response.status == .ok, "\(path) with a \(name) key")
                }
            }
        }
    }
}
