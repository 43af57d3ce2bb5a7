import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReproCore

/// The web dashboard: server-rendered pages over the same repositories, roles and ownership rules as
/// the JSON API (decision 0011). Pages are registered on the router directly (not on ``RouteGuard``,
/// whose catalogue is the API's); ``pages`` is their catalogue, which the tests walk.
struct DashboardController: Sendable {
    let sessions: SessionRepository
    let dashboard: DashboardRepository
    let studies: StudyRepository
    let reports: ReportRepository
    let preprints: PreprintRepository
    let scores: ScoreRepository
    let feedback: FeedbackRepository
    let access: PageAccess
    let cookieSecure: Bool
    /// The study page's report and plots while the study does not change.
    var studyPages = StudyPageCache()

    static let readers = PreprintController.readers
    static let studyReaders: Set<Role> = [.researcher, .moderator, .funder, .admin]

    /// Every page and form with the roles it admits (empty: anyone). `public` pages also admit the
    /// anonymous reader under `--public-read`.
    static let pages: [(method: HTTPRequest.Method, path: String, roles: Set<Role>, publicRead: Bool)] = [
        (.get, "/", [], false),
        (.get, "/sign-in", [], false),
        (.post, "/sign-in", [], false),
        (.post, "/sign-out", [], false),
        (.get, "/preprints", readers, true),
        (.get, "/preprints.csv", readers, true),
        (.get, "/preprints/{id}", readers, true),
        (.post, "/preprints/{id}/feedback", [.community, .researcher], false),
        (.get, "/studies/{id}", studyReaders, false),
        (.get, "/studies/{id}/events", studyReaders, false),
        (.post, "/studies/{id}/cancel", [.researcher, .admin], false),
        (.get, "/funders/{name}", readers, true),
        (.get, "/institutions/{name}", readers, true),
        (.get, "/workers", [.volunteer, .admin], false),
    ]

    func register(on router: Router<AppRequestContext>) {
        router.get("/dashboard.css") { _, _ in Self.asset(WebPage.css, type: "text/css; charset=utf-8") }
        router.get("/dashboard.js") { _, _ in Self.asset(WebPage.script, type: "text/javascript; charset=utf-8") }
        router.get("/", use: page(overview))
        router.get("/sign-in", use: page(signInForm))
        router.post("/sign-in", use: page(signIn))
        router.post("/sign-out", use: page(signOut))
        router.get("/preprints", use: page(preprintList))
        router.get("/preprints.csv", use: page(preprintCSV))
        router.get("/preprints/{id}", use: page(preprintPage))
        router.post("/preprints/{id}/feedback", use: page(postFeedback))
        router.get("/studies/{id}", use: page(studyPage))
        router.get("/studies/{id}/events", use: page(studyEvents))
        router.post("/studies/{id}/cancel", use: page(cancelStudy))
        router.get("/funders/{name}", use: page(funderPage))
        router.get("/institutions/{name}", use: page(institutionPage))
        router.get("/workers", use: page(workersPage))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=300"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    /// Renders a problem as an HTML page with its status (a 401 offers the sign-in page).
    func page(_ handler: @escaping Handler) -> Handler {
        { request, context in
            do {
                return try await handler(request, context)
            } catch let problem as Problem {
                let status = Int(problem.status.code)
                let view = ErrorView(
                    chrome: chrome(context, title: "\(status) \(problem.details.title)"), status: status,
                    detail: problem.details.detail, signIn: status == 401)
                return WebPage.render("error", view, status: problem.status)
            }
        }
    }

    /// The frame of a page for this caller.
    func chrome(_ context: AppRequestContext, title: String) -> Chrome {
        let identity = context.identity
        var nav: [Chrome.Link] = [Chrome.Link(href: "/", label: "Overview")]
        if let identity, !identity.roles.isDisjoint(with: Self.readers) || access.publicRead {
            nav.append(Chrome.Link(href: "/preprints", label: "Preprints"))
        } else if identity == nil && access.publicRead {
            nav.append(Chrome.Link(href: "/preprints", label: "Preprints"))
        }
        if let identity, !identity.roles.isDisjoint(with: [.volunteer, .admin]) {
            nav.append(Chrome.Link(href: "/workers", label: "Workers"))
        }
        return Chrome(
            title: title, signedIn: identity != nil, roles: identity.map { $0.roles.map(\.rawValue).sorted().joined(separator: ", ") } ?? "",
            csrf: context.webSession?.csrfToken ?? "", nav: nav)
    }

    // MARK: Sign-in

    static let signInCookie = "rg_signin"

    struct SignInView: Sendable {
        var chrome: Chrome
        var csrf: String
        var message: String?
        var next: String
    }

    @Sendable func signInForm(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        // Before a session exists the form is protected by a double-submit token: a cookie that only
        // this site can set, repeated in the form.
        let token = WebToken.generate()
        let next = Self.localPath(try QueryParameters(request)["next"])
        var response = WebPage.render(
            "sign-in", SignInView(chrome: chrome(context, title: "Sign in"), csrf: token, message: nil, next: next))
        response.headers[values: .setCookie].append(cookie(Self.signInCookie, token, request, maxAge: 1800, path: "/sign-in"))
        return response
    }

    @Sendable func signIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        guard let expected = request.cookies[Self.signInCookie]?.value, let token = form["csrf"],
            WebToken.equal(token, expected)
        else { throw Problem.forbidden("The sign-in form's token is missing or wrong; open the sign-in page again.") }
        let key = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let opened = key.isEmpty || key.count > 200 ? nil : try await sessions.open(apiKey: key)
        guard let (value, session) = opened.map({ ($0.cookie, $0.session) }) else {
            let fresh = WebToken.generate()
            var response = WebPage.render(
                "sign-in",
                SignInView(
                    chrome: chrome(context, title: "Sign in"), csrf: fresh,
                    message: "That key is unknown or revoked.", next: Self.localPath(form["next"])),
                status: .unauthorized)
            response.headers[values: .setCookie].append(cookie(Self.signInCookie, fresh, request, maxAge: 1800, path: "/sign-in"))
            return response
        }
        context.logger.info("dashboard sign-in", metadata: ["repro.account.id": "\(session.identity.accountID)"])
        var response = Response(status: .seeOther, headers: [.location: Self.localPath(form["next"])])
        response.headers[values: .setCookie].append(
            cookie(SessionMiddleware.cookieName, value, request, maxAge: Int(SessionRepository.lifetime), path: "/"))
        response.headers[values: .setCookie].append(cookie(Self.signInCookie, "", request, maxAge: 0, path: "/sign-in"))
        return response
    }

    @Sendable func signOut(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request)
        try PageAccess.checkCSRF(form, context)
        if let value = request.cookies[SessionMiddleware.cookieName]?.value { try await sessions.close(cookie: value) }
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.headers[values: .setCookie].append(cookie(SessionMiddleware.cookieName, "", request, maxAge: 0, path: "/"))
        return response
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, and Secure over TLS or with `--cookie-secure`.
    func cookie(_ name: String, _ value: String, _ request: Request, maxAge: Int, path: String) -> String {
        var text = "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
        let forwarded = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        if cookieSecure || forwarded || request.uri.scheme?.rawValue == "https" { text += "; Secure" }
        return text
    }

    /// `next` when it is a path on this site (never `//host` or a scheme), else `/`.
    static func localPath(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"), next.count <= 500,
            !next.contains(where: { $0.isNewline || $0 == "\\" })
        else { return "/" }
        return next
    }

    // MARK: Overview and workers

    struct OverviewView: Sendable {
        struct Count: Sendable {
            var label: String
            var value: Int
        }
        struct StudyLink: Sendable {
            var href: String
            var title: String
            var preprint: String
            var when: String
        }

        var chrome: Chrome
        var signedIn: Bool
        var publicRead: Bool
        var counts: [Count]
        var running: [StudyLink]
        var completed: [StudyLink]
        var showStudies: Bool
    }

    @Sendable func overview(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let identity = context.identity else {
            let view = OverviewView(
                chrome: chrome(context, title: "ReproGrid"), signedIn: false, publicRead: access.publicRead, counts: [],
                running: [], completed: [], showStudies: false)
            return WebPage.render("overview", view)
        }
        let numbers = try await dashboard.overview()
        let counts = [
            OverviewView.Count(label: "studies running", value: numbers.studiesRunning),
            .init(label: "tasks queued", value: numbers.tasksQueued),
            .init(label: "tasks leased", value: numbers.tasksLeased),
            .init(label: "workers online", value: numbers.workersOnline),
            .init(label: "runs finished in the last hour", value: numbers.finishedLastHour),
            .init(label: "preprints scored", value: numbers.preprintsScored),
        ]
        // Studies are listed as the API shows them: a researcher sees their own, moderators, funders
        // and admins see all, other roles none.
        let seesAll = identity.isAdmin || !identity.roles.isDisjoint(with: [.moderator, .funder])
        let showStudies = seesAll || identity.roles.contains(.researcher)
        let owner: UUID? = seesAll ? nil : identity.accountID
        func link(_ line: DashboardRepository.StudyLine) -> OverviewView.StudyLink {
            OverviewView.StudyLink(
                href: "/studies/\(line.id)", title: line.title, preprint: line.preprintID,
                when: line.completedAt.map { WebPage.date($0) } ?? line.state)
        }
        var running: [OverviewView.StudyLink] = []
        var completed: [OverviewView.StudyLink] = []
        if showStudies {
            running = try await dashboard.running(owner: owner).map(link)
            completed = try await dashboard.latestCompleted(owner: owner).map(link)
        }
        return WebPage.render(
            "overview",
            OverviewView(
                chrome: chrome(context, title: "Overview"), signedIn: true, publicRead: access.publicRead, counts: counts,
                running: running, completed: completed, showStudies: showStudies))
    }

    struct WorkersView: Sendable {
        struct Line: Sendable {
            var name: String
            var state: String
            var slots: Int
            var hardwareClass: String
            var succeeded: Int
            var failed: Int
            var lastSeen: String
        }

        var chrome: Chrome
        var workers: [Line]
        var empty: Bool
    }

    @Sendable func workersPage(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let identity = try access.require(context, roles: [.volunteer, .admin])
        // As GET /v1/workers: a volunteer sees their own workers, an admin all.
        let lines = try await dashboard.workers(owner: identity.isAdmin ? nil : identity.accountID)
        let view = WorkersView(
            chrome: chrome(context, title: "Workers"),
            workers: lines.map {
                WorkersView.Line(
                    name: $0.name, state: $0.online ? "online" : "offline", slots: $0.slots,
                    hardwareClass: $0.hardwareClass ?? "–", succeeded: $0.succeeded, failed: $0.failed,
                    lastSeen: WebPage.date($0.lastSeenAt))
            }, empty: lines.isEmpty)
        return WebPage.render("workers", view)
    }
}
