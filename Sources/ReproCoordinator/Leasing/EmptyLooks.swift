import Foundation
import Synchronization

/// Which workers last looked for work in vain, and when: "at wake-up generation G and probe epoch E".
///
/// A worker whose look is still fresh (neither number moved since) would find nothing again, so its
/// next poll goes straight to the wait, with no lease statement and no quarantine lookup (issue 10,
/// part 4). That holds only because every change that can make a task leasable moves one number:
/// - the wake-up generation (``TaskWakeup``) moves on every `NOTIFY repro_tasks` (submission, a retry,
///   the reaper's requeue and "backed-off tasks became due", a hand-back, a moderator's approval, a
///   quarantine or its release) and when the LISTEN connection comes back;
/// - the probe epoch moves when ``QueueProbe`` finds a task queued and due, which is what the changes
///   no notification announces leave behind: a replica leased elsewhere that frees its siblings for
///   the worker that held it before.
/// A look that found nothing only because other transactions held the rows locked (`SKIP LOCKED`) is
/// not recorded at all: the looker sees it (``LockedLookStatement``) and looks again shortly.
///
/// A look is keyed by what the statement depends on besides the queue: the worker and the memory,
/// GPUs and network it offers. A memo is dropped as soon as either number moves, so the table never
/// holds more than one entry per worker polling since the last change.
public final class EmptyLooks: Sendable {
    /// When a look happened; read it before looking, so a change during the look makes it stale.
    public struct Stamp: Equatable, Sendable {
        let generation: UInt64
        let epoch: UInt64
    }

    /// What one look depended on.
    struct Key: Hashable, Sendable {
        let worker: UUID
        let memoryBytes: Int64
        let gpus: Int
        let allowNetwork: Bool
    }

    private struct State {
        var epoch: UInt64 = 0
        /// The newest generation recorded; entries of older ones were dropped.
        var generation: UInt64 = 0
        var entries: [Key: Stamp] = [:]
        var skipped: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Creates an empty table.
    public init() {}

    /// The stamp of a look starting now, at wake-up generation `generation`.
    func stamp(generation: UInt64) -> Stamp {
        Stamp(generation: generation, epoch: state.withLock { $0.epoch })
    }

    /// True when `key` looked in vain at exactly `stamp` (nothing changed since); counts the skip.
    func isFresh(_ key: Key, at stamp: Stamp) -> Bool {
        state.withLock { state in
            guard state.entries[key] == stamp else { return false }
            state.skipped &+= 1
            return true
        }
    }

    /// Records that `key` found nothing in a look stamped `stamp`, unless something moved meanwhile.
    func recordEmpty(_ key: Key, at stamp: Stamp) {
        state.withLock { state in
            guard stamp.epoch == state.epoch, stamp.generation >= state.generation else { return }
            if stamp.generation != state.generation {
                // Every entry of an older generation is stale: drop them all at once.
                state.entries.removeAll(keepingCapacity: true)
                state.generation = stamp.generation
            }
            state.entries[key] = stamp
        }
    }

    /// Forgets `key`'s look (it leased something, or its look failed).
    func forget(_ key: Key) {
        _ = state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// Makes every recorded look stale: the queue changed in a way no notification announced.
    public func invalidate() {
        state.withLock { state in
            state.epoch &+= 1
            state.entries.removeAll()
        }
    }

    /// Fresh or stale entries held (tests, and the probe skips its query when there are none).
    public var count: Int { state.withLock { $0.entries.count } }

    /// Polls that skipped their lease statement so far (tests show the memo was used).
    public var skippedLooks: UInt64 { state.withLock { $0.skipped } }
}
