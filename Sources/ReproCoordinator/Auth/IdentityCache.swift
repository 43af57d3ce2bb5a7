import Foundation
import Synchronization

/// A time-bounded cache of key hash → identity.
///
/// An entry answers for `ttl` after the database last confirmed it. ``IdentityRefresher`` confirms
/// the entries of keys in use again, all in one query, before they lapse; entries of keys nobody
/// used for a while are dropped instead, which bounds both the cache and that query.
final class IdentityCache: Sendable {
    private struct Entry {
        var identity: Identity
        /// When the database last said the key is valid and who it belongs to.
        var verified: ContinuousClock.Instant
        /// When a request last presented the key.
        var used: ContinuousClock.Instant
    }

    private let entries = Mutex<[Data: Entry]>([:])
    let ttl: Duration
    private let capacity = 100_000

    init(ttl: Duration) { self.ttl = ttl }

    /// The identity of a key confirmed within `ttl`, or nil.
    func lookup(_ hash: Data) -> Identity? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard var entry = entries[hash] else { return nil }
            if entry.verified + ttl < now {
                entries[hash] = nil
                return nil
            }
            entry.used = now
            entries[hash] = entry
            return entry.identity
        }
    }

    /// Caches an identity the database just confirmed.
    func store(_ identity: Identity, for hash: Data) {
        guard ttl > .zero else { return }
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(identity: identity, verified: now, used: now)
        }
    }

    /// The keys presented within `recentUse`, to confirm again; the others are dropped.
    func keysInUse(within recentUse: Duration) -> [Data] {
        let cutoff = ContinuousClock.now - recentUse
        return entries.withLock { entries in
            entries = entries.filter { $0.value.used >= cutoff }
            return Array(entries.keys)
        }
    }

    /// Applies a confirmation read that started at `started`: keys found get their (possibly
    /// changed) identity and a fresh confirmation time; keys asked for but not found were revoked
    /// or deleted and are dropped.
    func confirm(_ found: [Data: Identity], asked: [Data], at started: ContinuousClock.Instant) {
        entries.withLock { entries in
            for hash in asked {
                guard var entry = entries[hash] else { continue }
                if let identity = found[hash] {
                    entry.identity = identity
                    entry.verified = max(entry.verified, started)
                    entries[hash] = entry
                } else {
                    entries[hash] = nil
                }
            }
        }
    }
}
