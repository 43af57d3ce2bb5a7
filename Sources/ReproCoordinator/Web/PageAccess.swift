import Foundation
import Hummingbird
import ReproCore

/// Who may see a dashboard page: the same roles as the API routes it shows, and, with `--public-read`,
/// the anonymous reader on the pages whose API routes are public then.
struct PageAccess: Sendable {
    let publicRead: Bool

    /// The caller, or a 401/403 problem (rendered as an HTML page).
    func require(_ context: AppRequestContext, roles: Set<Role>, publicPage: Bool = false) throws -> Identity {
        if let identity = context.identity {
            guard !identity.roles.isDisjoint(with: roles) else {
                throw Problem.forbidden(
                    "This page is for the roles \(roles.map(\.rawValue).sorted().joined(separator: ", ")).")
            }
            return identity
        }
        if publicPage && publicRead { return PublicReadMiddleware.reader }
        throw Problem.unauthenticated("Sign in with your API key to see this page.")
    }

    /// Checks the CSRF token of a form post against the session's (constant time).
    static func checkCSRF(_ form: QueryParameters, _ context: AppRequestContext) throws {
        guard let session = context.webSession else {
            throw Problem.forbidden("Forms need a signed-in session (sign in again).")
        }
        guard let token = form["csrf"], WebToken.equal(token, session.csrfToken) else {
            throw Problem.forbidden("The form's CSRF token is missing or wrong; reload the page and try again.")
        }
    }
}
