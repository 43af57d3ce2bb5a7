import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Sign-in, the session cookie and CSRF: each boundary refuses what it must, and the same request
/// with the right token goes through (so the refusal is the boundary's doing).
@Suite("Dashboard sessions and CSRF", .serialized)
struct DashboardSessionTests {
    @Test("the session cookie is HttpOnly, SameSite=Strict, stored hashed, and dies at sign-out")
    func cookieLifecycle() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let researcher = try await harness.key(.researcher)
            let form = try await harness.client.execute(uri: "/sign-in", method: .get, headers: [:], body: nil)
            let token = try #require(DashboardBrowser.hidden("csrf", in: String(buffer: form.body)))
            let signInCookie = try #require(DashboardBrowser.cookie(named: DashboardController.signInCookie, in: form))
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            headers[.cookie] = "\(DashboardController.signInCookie)=\(signInCookie)"

            // A wrong key: 401 and no session.
            let wrong = try await harness.client.execute(
                uri: "/sign-in", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(token)&key=rg_wrong"))
            #expect(wrong.status == .unauthorized)
            #expect(DashboardBrowser.cookie(named: SessionMiddleware.cookieName, in: wrong) == nil)

            // Without the sign-in form's token (login CSRF): refused.
            let forged = try await harness.client.execute(
                uri: "/sign-in", method: .post, headers: headers, body: ByteBuffer(string: "key=\(researcher)"))
            #expect(forged.status == .forbidden)
            #expect(DashboardBrowser.cookie(named: SessionMiddleware.cookieName, in: forged) == nil)

            let posted = try await harness.client.execute(
                uri: "/sign-in", method: .post, headers: headers,
                body: ByteBuffer(string: "csrf=\(token)&key=\(researcher)&next=%2F%2Fevil.example"))
            #expect(posted.status == .seeOther)
            #expect(posted.headers[.location] == "/", "an off-site next is ignored")
            let setCookie = try #require(
                posted.headers[values: .setCookie].first { $0.hasPrefix(SessionMiddleware.cookieName + "=") })
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
            #expect(!setCookie.contains("Secure"))
            let cookie = try #require(DashboardBrowser.cookie(named: SessionMiddleware.cookieName, in: posted))

            // Stored as a hash only.
            let rows = try await harness.database.client.query("SELECT id_hash, expires_at > now() FROM web_sessions")
            var stored: [(Data, Bool)] = []
            for try await row in rows.decode((Data, Bool).self) { stored.append(row) }
            #expect(stored.count == 1)
            #expect(stored.first?.0 == APIKey.hash(cookie))
            #expect(stored.first?.1 == true)

            var browser = DashboardBrowser(client: harness.client, cookie: cookie)
            #expect(try await browser.get("/preprints").status == .ok)
            // The cookie opens dashboard pages only, never the JSON API.
            var apiHeaders = HTTPFields()
            apiHeaders[.cookie] = "\(SessionMiddleware.cookieName)=\(cookie)"
            let api = try await harness.client.execute(uri: "/v1/scores", method: .get, headers: apiHeaders, body: nil)
            #expect(api.status == .unauthorized)

            let home = try await browser.get("/")
            browser.csrf = try #require(DashboardBrowser.hidden("csrf", in: home.text))
            // Sign-out without the token is refused and the session lives on.
            #expect(try await browser.post("/sign-out", form: "").status == .forbidden)
            #expect(try await browser.get("/preprints").status == .ok)
            let out = try await browser.post("/sign-out", form: "csrf=\(browser.csrf)")
            #expect(out.status == .seeOther)
            #expect(try await browser.get("/preprints").status == .unauthorized)
        }
    }

    @Test("--cookie-secure marks the cookie Secure")
    func secureCookie() async throws {
        try await DashboardHarness.run(publicRead: false, cookieSecure: true) { harness in
            let key = try await harness.key(.funder)
            let form = try await harness.client.execute(uri: "/sign-in", method: .get, headers: [:], body: nil)
            #expect(form.headers[values: .setCookie].allSatisfy { $0.contains("; Secure") })
            let token = try #require(DashboardBrowser.hidden("csrf", in: String(buffer: form.body)))
            let signInCookie = try #require(DashboardBrowser.cookie(named: DashboardController.signInCookie, in: form))
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            headers[.cookie] = "\(DashboardController.signInCookie)=\(signInCookie)"
            let posted = try await harness.client.execute(
                uri: "/sign-in", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(token)&key=\(key)"))
            let setCookie = try #require(
                posted.headers[values: .setCookie].first { $0.hasPrefix(SessionMiddleware.cookieName + "=") })
            #expect(setCookie.contains("; Secure"))
        }
    }

    @Test("state-changing forms without the CSRF token are refused; with it they work")
    func csrf() async throws {
        try await DashboardHarness.run(publicRead: false) { harness in
            let researcher = try await harness.key(.researcher)
            let community = try await harness.key(.community)
            let bundle = try await harness.bundle(researcher: researcher)
            let created = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, seeds: 2), key: researcher)
            let owner = try await DashboardBrowser.signIn(harness.client, key: researcher)
            let path = "/studies/\(created.id.uuidString.lowercased())/cancel"

            #expect(try await owner.post(path, form: "").status == .forbidden)
            #expect(try await owner.post(path, form: "csrf=not-the-token").status == .forbidden)
            // Another session's token is not this session's.
            let other = try await DashboardBrowser.signIn(harness.client, key: community)
            #expect(try await owner.post(path, form: "csrf=\(other.csrf)").status == .forbidden)
            #expect(try await harness.services.studies.status(created.id)?.state == .running)

            let cancelled = try await owner.post(path, form: "csrf=\(owner.csrf)")
            #expect(cancelled.status == .seeOther)
            #expect(try await harness.services.studies.status(created.id)?.state == .cancelled)

            // Feedback: refused without the token, posted with it; a hostile tag's refusal is escaped.
            let feedbackPath = "/preprints/arXiv:2401.01234/feedback"
            #expect(try await other.post(feedbackPath, form: "verdict=comment&text=hi").status == .forbidden)
            let posted = try await other.post(feedbackPath, form: "csrf=\(other.csrf)&verdict=comment&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            #expect(posted.status == .seeOther)
            let hostileTag = try await other.post(
                feedbackPath, form: "csrf=\(other.csrf)&verdict=comment&tags=%3Cscript%3Ealert(9)%3C%2Fscript%3E")
            #expect(hostileTag.status == .badRequest)
            #expect(!hostileTag.text.contains("<script>alert(9)"))
            #expect(hostileTag.text.contains("&lt;script&gt;alert(9)"))
            let page = try await other.get("/preprints/arXiv:2401.01234")
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.text.contains("<script>alert(1)"))
            // The API's rule: a funder may not post feedback, here neither.
            let funder = try await DashboardBrowser.signIn(harness.client, key: try await harness.key(.funder))
            #expect(try await funder.post(feedbackPath, form: "csrf=\(funder.csrf)&verdict=comment").status == .forbidden)
        }
    }
}
