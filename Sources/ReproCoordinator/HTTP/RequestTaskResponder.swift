import Hummingbird

/// Runs each request's router pass in a task of its own, and sleeps for the long-polls that
/// parked their wait (``LongPollSlot``), between passes, in this shallow frame (decision 0019).
///
/// Hummingbird serves every request of a connection in the connection's task, and the Swift task
/// allocator keeps the memory of the deepest call chain a task ever reached until the task ends: after
/// one request through the middleware, an idle keep-alive connection held ~37 KiB of slabs (heaptrack,
/// issue 10, part 4). A task per pass gives that memory back when the pass ends.
///
/// The HTTP server calls it through ``ConnectionResponder``, which also writes each answer in the pass's
/// task; Hummingbird's `Application` calls ``respond(to:context:)`` (the in-process test router).
struct RequestTaskResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == AppRequestContext {
    let inner: Inner

    func respond(to request: Request, context: AppRequestContext) async throws -> Response {
        let slot = context.longPoll
        slot.enableParking()
        while true {
            let inner = self.inner
            let response = try await Self.inTask { try await inner.respond(to: request, context: context) }
            guard let parked = slot.takeParked() else { return response }
            await parked.sleep()
        }
    }

    /// Runs `body` in a task of its own, cancelled with the caller's. Not an `async let`: its child task is
    /// allocated from the caller's task allocator, which then keeps another slab for good, and a finished
    /// `async let` child (with its slabs) is freed only when its scope ends.
    static func inTask<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
