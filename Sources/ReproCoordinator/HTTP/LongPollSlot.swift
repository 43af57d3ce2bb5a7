import Foundation
import Hummingbird
import Synchronization

/// Where a long-polling request hands its wait to ``RequestTaskResponder``, so that it waits outside
/// the task that ran its middleware and handler (decision 0019).
///
/// A suspended async call chain keeps every frame of it, and the Swift task allocator keeps a task's
/// memory until the task ends: a request waiting 20 s inside the router held ~37 KiB of frames. A handler
/// that would wait instead parks here (``park(_:state:)``) and returns; the responder ends the request's
/// task, sleeps, and sends the request through the router again, where the handler finds its state in
/// ``resumed`` and looks again. The middleware runs again on that pass, and the first pass's facts that must
/// not change between passes are kept here: its start (``HTTPMetricsMiddleware``), its database budget
/// (``DatabaseBudgetMiddleware``) and its identity (``Authenticator``).
public final class LongPollSlot: Sendable {
    /// A parked wait, the handler's own state to go on from, and the client's connection (when the
    /// server watches it), whose going ends the wait.
    public struct Parked: Sendable {
        public let wait: LongPollWait
        public let state: any Sendable
        public let client: ClientConnection?
    }

    private struct State {
        var enabled = false
        var parked: Parked?
        var resumed: Parked?
        var started: ContinuousClock.Instant?
        var budget: DatabaseBudget?
        var identity: Identity?
    }

    private let state = Mutex(State())

    /// A slot nobody waits on yet: handlers wait in place until ``RequestTaskResponder`` enables it.
    public init() {}

    /// Called by the responder that will sleep for parked requests.
    func enableParking() { state.withLock { $0.enabled = true } }

    /// Hands `wait` to the responder with the handler's `state`; false when nobody takes it (the router
    /// runs without ``RequestTaskResponder``), and the handler then waits in place.
    public func park(_ wait: LongPollWait, state handlerState: any Sendable, client: ClientConnection?) -> Bool {
        state.withLock { state in
            guard state.enabled else { return false }
            state.parked = Parked(wait: wait, state: handlerState, client: client)
            return true
        }
    }

    /// True from ``park(_:state:client:)`` until the responder takes the wait: the response of that pass is a
    /// placeholder that no client sees.
    public var isParked: Bool { state.withLock { $0.parked != nil } }

    /// The wait the handler parked, moved to ``resumed`` for the pass after it.
    func takeParked() -> Parked? {
        state.withLock { state in
            let parked = state.parked
            state.parked = nil
            if parked != nil { state.resumed = parked }
            return parked
        }
    }

    /// The wait this pass resumes after, with the handler's state; nil on a request's first pass.
    public var resumed: Parked? { state.withLock { $0.resumed } }

    /// When the request's first pass started (`now` on the first pass).
    func started(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        state.withLock { state in
            if let started = state.started { return started }
            state.started = now
            return now
        }
    }

    /// The request's database budget: `make()` on the first pass, the same one after.
    func budget(_ make: () -> DatabaseBudget) -> DatabaseBudget {
        state.withLock { state in
            if let budget = state.budget { return budget }
            let budget = make()
            state.budget = budget
            return budget
        }
    }

    /// The identity the first pass authenticated, for the passes after a wait: the request is the same.
    var firstIdentity: Identity? {
        get { state.withLock { $0.identity } }
        set { state.withLock { $0.identity = newValue } }
    }
}

extension LongPollSlot.Parked {
    /// Sleeps out the parked wait: in the caller's frame when the server watches the client's connection
    /// (``LongPollWait/sleepParked(client:)``), else as a handler would (the in-process test router).
    func sleep() async {
        guard let client else { return await wait.sleep(client: nil) }
        await wait.sleepParked(client: client)
    }
}
