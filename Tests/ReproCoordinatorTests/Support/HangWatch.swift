import Foundation
import Synchronization
import Testing

/// Says which phase of a harness has not ended after `limit`, so a test that hangs in CI fails with
/// its name and where it stopped instead of silently holding the run until the job's time limit.
///
/// A hang is otherwise invisible: the test process idles, and SwiftPM's own output buffer keeps the
/// last lines from the log. The report is written straight to the descriptor and recorded as an
/// issue of the current test. Nothing can be cancelled from here (the stuck await is unknown), so
/// the run still waits; but the log names it.
final class HangWatch: Sendable {
    /// The phase, in a class of its own so the watcher task can hold it (a `Mutex` cannot be copied).
    private final class Phase: Sendable {
        let name = Mutex("starting")
        let reported = Mutex(false)
    }

    private let phase = Phase()
    private let watcher: Task<Void, Never>

    init(_ what: String, limit: Duration = .seconds(600), sourceLocation: SourceLocation = #_sourceLocation) {
        let test = Test.current?.name ?? "(no test)"
        let phase = self.phase
        // Not detached: the task inherits the test's task-locals, so the issue is the test's.
        watcher = Task {
            try? await Task.sleep(for: limit)
            if Task.isCancelled { return }
            let stuck = phase.name.withLock { $0 }
            let message = "\(what) of test \(test) still in phase '\(stuck)' after \(limit)"
            FileHandle.standardError.write(Data("HANG: \(message)\n".utf8))
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            phase.reported.withLock { $0 = true }
        }
    }

    /// Names the phase now running.
    func enter(_ name: String) { phase.name.withLock { $0 = name } }

    /// Whether the hang was reported.
    var hasReported: Bool { phase.reported.withLock { $0 } }

    /// The watched work ended.
    func finish() { watcher.cancel() }
}
