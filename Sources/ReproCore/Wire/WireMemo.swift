import Synchronization

/// Values derived from wire data that repeats from one cycle to the next, kept so the work is done once:
/// a study's job and manifest are the same in every lease answer of that study, and decoding or encoding
/// them with `Codable` on every batch was 7 % of the benchmark process's CPU at batch 50 (issue 16).
///
/// Keyed by the whole input (the text, the bytes, the value), never by an id alone, so a changed job can
/// never be answered with a stale one. Bounded: it starts over when it would pass `capacity` entries.
public final class WireMemo<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    /// The most entries kept at once.
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    /// The entries kept now.
    public var count: Int { entries.withLock { $0.count } }

    /// The value kept for `key`, or `make()`'s, kept when it returns.
    public func value(for key: Key, make: () throws -> Value) rethrows -> Value {
        if let kept = entries.withLock({ $0[key] }) { return kept }
        let made = try make()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = made
        }
        return made
    }
}
