import Foundation

/// The one thread every job is spawned from, alive as long as the worker.
///
/// Bubblewrap's `--die-with-parent` (and anything else using `PR_SET_PDEATHSIG`) kills the child
/// when the *thread* that created it exits, not the process. Spawned from a pool thread, a job
/// would be killed with SIGKILL the moment Dispatch retired that idle thread, seconds into its run.
/// Spawning from a thread that never exits makes "the parent" mean the worker process.
final class SpawnThread: @unchecked Sendable {
    // @unchecked: `pending` is only touched under `condition`.
    static let shared = SpawnThread()

    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [self] in serve() }
        thread.name = "repro-spawn"
        thread.start()
    }

    /// Runs `body` on the spawn thread and returns its result.
    func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            pending.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    private func serve() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let work = pending
            pending.removeAll()
            condition.unlock()
            for item in work { item() }
        }
    }
}
