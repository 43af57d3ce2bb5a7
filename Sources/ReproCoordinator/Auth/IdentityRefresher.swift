import Logging
import ServiceLifecycle

/// Keeps the ``IdentityCache`` of the keys in use confirmed, in one query every half TTL.
///
/// Without it an entry lapsed `ttl` (10 s) after its lookup, and a worker whose long-poll lasts 20 s
/// was looked up again on every poll: one database transaction per idle worker and poll (issue 10,
/// part 4). Now the cost is one query per half TTL for all of them. A revoked key is dropped at the
/// next confirmation; when confirmations fail (database down), entries lapse at their TTL as before,
/// so a revoked key is never accepted for longer than `ttl`.
struct IdentityRefresher: Service {
    let cache: IdentityCache
    let accounts: AccountRepository
    /// Keys presented within this are confirmed; others are dropped (the longest long-poll plus the TTL).
    let recentUse: Duration
    let gate: Gate
    let logger: Logger

    func run() async throws {
        // A service that returns stops the whole group: with caching off, wait for the shutdown.
        guard cache.ttl > .zero else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await gate.wait()
            while !Task.isCancelled {
                try? await Task.sleep(for: cache.ttl / 2)
                do {
                    try await refreshOnce()
                } catch {
                    if Task.isCancelled { break }
                    logger.warning(
                        "cached keys not confirmed; they lapse at their TTL", metadata: ["repro.error": "\(error)"])
                }
            }
        }
    }

    /// One confirmation of the keys in use.
    func refreshOnce() async throws {
        let keys = cache.keysInUse(within: recentUse)
        guard !keys.isEmpty else { return }
        let started = ContinuousClock.now
        let found = try await accounts.identities(forKeyHashes: keys)
        cache.confirm(found, asked: keys, at: started)
    }
}
