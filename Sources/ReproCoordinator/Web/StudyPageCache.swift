import Foundation
import ReproCore
import Synchronization

/// The study page's report and plots, kept per study while nothing they are computed from changed.
///
/// The page's costly part is the report over every accepted run and the plots drawn from it (10 000 runs:
/// the values, the summaries, the strip and claim plots); the parts that differ per caller (the runs table,
/// failures, who may cancel) are not kept. A request still asks the database whether anything changed:
/// the study's status (state, task counts, adaptive progress) and ``ReportRepository/acceptedRunsVersion``
/// (count, largest and sum of the accepted run ids, which change when a run is accepted or a quarantine takes
/// one out or puts it back; a run's values never change once stored). Equal versions mean equal inputs, so
/// every coordinator process can keep its own cache with no invalidation messages.
final class StudyPageCache: Sendable {
    struct Version: Equatable, Sendable {
        /// The study's status as sent by `GET /v1/studies/{id}` (it holds everything of it the report reads).
        var status: Data
        var runs: ReportRepository.RunsVersion
    }

    struct Parts: Sendable {
        var report: StudyReport
        var strips: [PlotView]
        var claims: PlotView
        var variance: [PlotView]
    }

    private struct Entry {
        var version: Version
        var parts: Parts
        var used: UInt64
    }

    /// Studies kept; the least recently used goes first.
    let capacity: Int
    private let entries = Mutex<(map: [UUID: Entry], clock: UInt64)>(([:], 0))

    init(capacity: Int = 32) { self.capacity = capacity }

    /// The parts of `study` if they were computed from `version`.
    func parts(_ study: UUID, at version: Version) -> Parts? {
        entries.withLock { state in
            guard var entry = state.map[study], entry.version == version else { return nil }
            state.clock += 1
            entry.used = state.clock
            state.map[study] = entry
            return entry.parts
        }
    }

    func store(_ parts: Parts, for study: UUID, at version: Version) {
        entries.withLock { state in
            state.clock += 1
            state.map[study] = Entry(version: version, parts: parts, used: state.clock)
            if state.map.count > capacity, let oldest = state.map.min(by: { $0.value.used < $1.value.used })?.key {
                state.map[oldest] = nil
            }
        }
    }
}
