import Foundation
import ReproCore
import Synchronization

/// Parsed study specs, kept per study once read: a study's spec never changes after submission, and the
/// score maintainer parsed the running study's spec again on every pass (issue 16: with the seed list
/// written out, `seeds: {from, count: 150000}` is 150 000 numbers to read each time). Bounded by the seeds
/// the cached specs hold, as that is what their memory grows with: it starts over when adding one would
/// pass `capacity`, and a spec larger than that on its own is not kept (a million-seed study is parsed per
/// read, as before, so the coordinator's memory stays what the million-task submission measured).
final class StudySpecCache: Sendable {
    private struct Entries {
        var specs: [UUID: StudySpec] = [:]
        var seeds = 0
    }

    private let entries = Mutex(Entries())
    /// The most seeds (fixed seeds, summed over the cached specs) kept at once.
    let capacity: Int

    init(capacity: Int = 500_000) { self.capacity = capacity }

    func spec(_ study: UUID) -> StudySpec? {
        entries.withLock { $0.specs[study] }
    }

    func store(_ spec: StudySpec, for study: UUID) {
        let weight = spec.matrix.seeds.count + 1
        guard weight <= capacity else { return }
        entries.withLock { entries in
            // A study read twice at once is stored twice: its spec is the same, and counted once.
            guard entries.specs[study] == nil else { return }
            if entries.seeds + weight > capacity { entries = Entries() }
            entries.specs[study] = spec
            entries.seeds += weight
        }
    }
}
