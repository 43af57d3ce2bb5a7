import Hummingbird
import ReproCore

/// One route and the roles it admits; the catalogue of these is what tests walk to prove that no
/// route is open by accident.
public struct GuardedRoute: Sendable, Hashable {
    public var method: HTTPRequest.Method
    public var path: String
    /// Empty means public (health, OpenAPI document).
    public var roles: Set<Role>
}

/// Registers routes together with the roles they admit, and keeps the catalogue.
public final class RouteGuard {
    let router: Router<AppRequestContext>
    /// Every route registered so far, shared with the middleware that reads it per request.
    public let catalogue: RouteCatalogue
    /// Every route registered so far.
    public var routes: [GuardedRoute] { catalogue.routes }

    /// Wraps a router.
    public init(router: Router<AppRequestContext>, catalogue: RouteCatalogue = RouteCatalogue()) {
        self.router = router
        self.catalogue = catalogue
    }

    /// A handler that needs an identity.
    public typealias Handler = @Sendable (Request, AppRequestContext, Identity) async throws -> Response

    /// Adds a route that admits only `roles`: no key gives 401, a key without one of the roles 403.
    public func on(_ method: HTTPRequest.Method, _ path: String, roles: Set<Role>, use handler: @escaping Handler) {
        precondition(!roles.isEmpty, "use `public` for routes without roles")
        catalogue.add(GuardedRoute(method: method, path: path, roles: roles))
        let names = roles.map(\.rawValue).sorted().joined(separator: ", ")
        router.on(RouterPath(path), method: method) { request, context -> Response in
            guard let identity = context.identity else {
                // A key was sent but refused (unknown, revoked, expired, malformed header): say why.
                if let refusal = context.credentialRefusal { throw refusal }
                throw Problem.unauthenticated("This route needs an API key with one of the roles: \(names).")
            }
            guard !identity.roles.isDisjoint(with: roles) else {
                throw Problem.forbidden("This route admits the roles \(names); your key has \(identity.roles.map(\.rawValue).sorted().joined(separator: ", ")).")
            }
            return try await handler(request, context, identity)
        }
    }

    /// Adds a route anyone may call.
    public func `public`(
        _ method: HTTPRequest.Method, _ path: String,
        use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Response
    ) {
        catalogue.add(GuardedRoute(method: method, path: path, roles: []))
        router.on(RouterPath(path), method: method, use: handler)
    }
}
