import Foundation
import Hummingbird

/// Signs in dashboard requests from the session cookie. Only pages of the dashboard (paths outside
/// `/v1/`) honour the cookie: the JSON API stays bearer-only, so a cookie can never make a browser
/// call the API on someone's behalf (no CSRF surface there).
struct SessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let cookieName = "rg_session"

    let sessions: SessionRepository

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard context.identity == nil, Self.isDashboardPath(request.uri.path),
            let cookie = request.cookies[Self.cookieName]?.value, !cookie.isEmpty, cookie.count <= 100
        else { return try await next(request, context) }
        var context = context
        if let session = try await sessions.session(cookie: cookie) {
            context.identity = session.identity
            context.webSession = session
            context.logger[metadataKey: "repro.account.id"] = "\(session.identity.accountID)"
        }
        return try await next(request, context)
    }

    /// Dashboard pages: everything but the JSON API (and its public badge).
    static func isDashboardPath(_ path: String) -> Bool {
        !(path == "/v1" || path.hasPrefix("/v1/"))
    }
}
