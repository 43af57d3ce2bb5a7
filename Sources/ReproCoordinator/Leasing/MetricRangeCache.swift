import Foundation
import ReproCore
import Synchronization

/// The declared metric ranges of studies (`metrics` in the spec), kept per study once read: a study's spec
/// never changes after submission, and every result batch used to read it again (issue 16). Bounded: it
/// starts over when it holds `capacity` studies.
final class MetricRangeCache: Sendable {
    /// nil: the study declares no ranges (which is not the same as declaring none: `metrics: {}`).
    private let entries = Mutex<[UUID: [String: MetricRange]?]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    /// The cached ranges of `studies`, and the studies not cached.
    func lookup(_ studies: Set<UUID>) -> (found: [UUID: [String: MetricRange]], missing: Set<UUID>) {
        entries.withLock { entries in
            var found: [UUID: [String: MetricRange]] = [:]
            var missing: Set<UUID> = []
            for study in studies {
                if let cached = entries[study] {
                    if let ranges = cached { found[study] = ranges }
                } else {
                    missing.insert(study)
                }
            }
            return (found, missing)
        }
    }

    /// Keeps what was read for `studies`; those missing from `ranges` declare none.
    func store(_ ranges: [UUID: [String: MetricRange]], for studies: Set<UUID>) {
        entries.withLock { entries in
            if entries.count + studies.count > capacity { entries.removeAll(keepingCapacity: true) }
            for study in studies { entries[study] = .some(ranges[study]) }
        }
    }
}
