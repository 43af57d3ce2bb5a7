import Foundation
import Hummingbird
import Logging
import Synchronization

/// Resolves the `Authorization: Bearer <key>` header to an ``Identity`` for the rest of the chain.
/// It never refuses a request itself: each route's ``RouteGuard`` decides, so public routes stay public.
///
/// Lookups are cached for a few seconds because every worker request carries a token and the lease
/// path should not pay a database round trip for it; a revoked key therefore stays valid for at most
/// `cacheTTL`.
public struct Authenticator: RouterMiddleware {
    public typealias Context = AppRequestContext

    let accounts: AccountRepository
    let cache: IdentityCache

    /// Creates the middleware.
    public init(accounts: AccountRepository, cacheTTL: Duration = .seconds(10)) {
        self.accounts = accounts
        self.cache = IdentityCache(ttl: cacheTTL)
    }

    /// Sets `context.identity` when the request carries a valid key.
    public func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.lowercased().hasPrefix("bearer ") else {
                throw Problem.unauthenticated("Use `Authorization: Bearer <key>`.")
            }
            let key = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
            let hash = APIKey.hash(key)
            if let cached = cache.lookup(hash) {
                context.identity = cached
            } else if let identity = try await accounts.identity(forKeyHash: hash) {
                cache.store(identity, for: hash)
                context.identity = identity
            } else {
                throw Problem.unauthenticated("The key is unknown or revoked; ask an admin for a new one.")
            }
            if let identity = context.identity {
                context.logger[metadataKey: "repro.account.id"] = "\(identity.accountID)"
                if let worker = identity.workerID { context.logger[metadataKey: "repro.worker.id"] = "\(worker)" }
            }
        }
        return try await next(request, context)
    }
}

/// A small time-bounded cache of key hash → identity.
final class IdentityCache: Sendable {
    private struct Entry {
        var identity: Identity
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[Data: Entry]>([:])
    private let ttl: Duration
    private let capacity = 10_000

    init(ttl: Duration) { self.ttl = ttl }

    func lookup(_ hash: Data) -> Identity? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            if entry.expires < now {
                entries[hash] = nil
                return nil
            }
            return entry.identity
        }
    }

    func store(_ identity: Identity, for hash: Data) {
        guard ttl > .zero else { return }
        let expires = ContinuousClock.now + ttl
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(identity: identity, expires: expires)
        }
    }
}
