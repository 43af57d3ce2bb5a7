import Synchronization

/// A time limit that holds even when the work under it never returns.
///
/// Structured concurrency cannot give that: a task group waits for all its children, and a child
/// suspended on a future that nobody completes — a PostgresNIO 1.33.2 query written to a connection
/// the server already closed (decision 0006) — never returns, cancelled or not. So the work runs in a
/// task of its own, and the caller waits on a continuation that the first of three events resumes:
/// the work ends, the limit passes, or the caller is cancelled. On the last two the work is cancelled
/// and left behind, and `onExpiry` (limit only) may close what the work holds, its database
/// connection, which in every case but the library bug ends the work at once.
struct Deadline: Sendable {
    /// How long the work may take; nil for no limit (only the caller's cancellation then ends the wait).
    let limit: Duration?

    init(_ limit: Duration?) { self.limit = limit }

    /// Runs `work` and returns its result, or throws ``DeadlineExceeded`` when the limit passes first
    /// and `CancellationError` when the caller is cancelled first.
    func run<T: Sendable>(
        onExpiry: @escaping @Sendable () -> Void = {},
        _ work: @escaping @Sendable (Handle) async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        let handle = Handle(
            disarm: { race.disarm() }, abandon: { error in race.finish(.failure(error), abandoning: true) })
        let limit = self.limit
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard race.install(continuation) else { return }
                race.setWork(
                    Task {
                        do {
                            race.finish(.success(try await work(handle)), abandoning: false)
                        } catch {
                            race.finish(.failure(error), abandoning: false)
                        }
                    })
                if let limit {
                    race.setTimer(
                        Task {
                            // A cancelled sleep means the race ended another way (or the timer was disarmed).
                            guard (try? await Task.sleep(for: limit)) != nil else { return }
                            if race.expire(DeadlineExceeded(limit: limit)) { onExpiry() }
                        })
                }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()), abandoning: true)
        }
    }

    /// Given to the work: lets it lift the limit once it reached a phase that may last (a LISTEN
    /// session), or end the wait early when it knows it cannot finish (its connection closed).
    struct Handle: Sendable {
        let disarm: @Sendable () -> Void
        /// Fails the caller with `error` now and leaves the work behind, as an expiry would.
        let abandon: @Sendable (any Error) -> Void
    }
}

/// The work did not end within its limit.
struct DeadlineExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}

/// Who resumes the caller first; everyone later finds the race finished and does nothing.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var finished = false
        var disarmed = false
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Stores the caller's continuation; false (after resuming it) when the caller was cancelled before.
    func install(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
        let finished = state.withLock { state -> Bool in
            if !state.finished { state.continuation = continuation }
            return state.finished
        }
        if finished { continuation.resume(throwing: CancellationError()) }
        return !finished
    }

    func setWork(_ task: Task<Void, Never>) {
        if state.withLock({ state -> Bool in
            if !state.finished { state.work = task }
            return state.finished
        }) {
            task.cancel()
        }
    }

    func setTimer(_ task: Task<Void, Never>) {
        if state.withLock({ state -> Bool in
            let unwanted = state.finished || state.disarmed
            if !unwanted { state.timer = task }
            return unwanted
        }) {
            task.cancel()
        }
    }

    /// Stops the timer: the work may now take as long as it needs.
    func disarm() {
        state.withLock { state -> Task<Void, Never>? in
            state.disarmed = true
            defer { state.timer = nil }
            return state.timer
        }?.cancel()
    }

    /// The limit passed: fails the caller unless the race ended or the timer was disarmed meanwhile.
    func expire(_ error: DeadlineExceeded) -> Bool {
        finish(.failure(error), abandoning: true, unlessDisarmed: true)
    }

    /// Resumes the caller with `result` if nobody did yet; true when this call did. `abandoning`
    /// cancels the work, which is then left to end (or not) on its own.
    @discardableResult
    func finish(_ result: Result<T, any Error>, abandoning: Bool, unlessDisarmed: Bool = false) -> Bool {
        let taken = state.withLock {
            state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?)? in
            guard !state.finished, !(unlessDisarmed && state.disarmed) else { return nil }
            state.finished = true
            defer {
                state.continuation = nil
                state.work = nil
                state.timer = nil
            }
            return (state.continuation, state.work, state.timer)
        }
        guard let (continuation, work, timer) = taken else { return false }
        timer?.cancel()
        if abandoning { work?.cancel() }
        continuation?.resume(with: result)
        return true
    }
}
