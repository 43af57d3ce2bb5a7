import Foundation
import Hummingbird
import Logging
import Synchronization

/// Resolves the `Authorization: Bearer <key>` header to an ``Identity`` for the rest of the chain.
/// It never refuses a request itself: each route's ``RouteGuard`` decides, so public routes stay public.
/// Requests to public routes are not authenticated at all: their credentials are ignored, so a wrong or
/// revoked key (or a database that cannot answer) does not fail `/healthz`, `/readyz` or `/openapi.yaml`.
///
/// Lookups are cached because every worker request carries a token and the lease path should not
/// pay a database round trip for it. ``IdentityRefresher`` re-reads the cached identities of keys in
/// use in one query every half `cacheTTL`, so a worker that long-polls back to back is not looked up
/// again per poll, and a revoked key still stays valid for at most `cacheTTL`.
public struct Authenticator: RouterMiddleware {
    public typealias Context = AppRequestContext

    let accounts: AccountRepository
    let cache: IdentityCache
    /// The routes, to tell public ones; nil treats every route as guarded.
    let catalogue: RouteCatalogue?

    /// Creates the middleware with a cache of its own.
    public init(accounts: AccountRepository, cacheTTL: Duration = .seconds(10), catalogue: RouteCatalogue? = nil) {
        self.init(accounts: accounts, cache: IdentityCache(ttl: cacheTTL), catalogue: catalogue)
    }

    /// Creates the middleware over a cache that an ``IdentityRefresher`` keeps fresh.
    init(accounts: AccountRepository, cache: IdentityCache, catalogue: RouteCatalogue? = nil) {
        self.accounts = accounts
        self.cache = cache
        self.catalogue = catalogue
    }

    /// Sets `context.identity` when the request carries a valid key.
    public func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if context.longPoll.resumed != nil, let identity = context.longPoll.firstIdentity {
            // A long-poll's pass after its wait (``LongPollSlot``): the same request, authenticated once.
            context.identity = identity
            Self.label(&context, identity)
            return try await next(request, context)
        }
        if let header = request.headers[.authorization],
            catalogue?.isPublic(request.method, request.uri.path) != true
        {
            guard header.lowercased().hasPrefix("bearer ") else {
                context.credentialRefusal = Problem.unauthenticated("Use `Authorization: Bearer <key>`.")
                return try await next(request, context)
            }
            let key = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
            let hash = APIKey.hash(key)
            if let cached = cache.lookup(hash) {
                context.identity = cached
            } else if let identity = try await accounts.identity(forKeyHash: hash) {
                cache.store(identity, for: hash)
                context.identity = identity
            } else {
                context.credentialRefusal = Problem.unauthenticated(
                    "The key is unknown, revoked or expired; ask an admin for a new one.")
            }
            if let identity = context.identity {
                context.longPoll.firstIdentity = identity
                Self.label(&context, identity)
            }
        }
        return try await next(request, context)
    }

    private static func label(_ context: inout AppRequestContext, _ identity: Identity) {
        context.logger[metadataKey: "repro.account.id"] = "\(identity.accountID)"
        if let worker = identity.workerID { context.logger[metadataKey: "repro.worker.id"] = "\(worker)" }
    }
}
