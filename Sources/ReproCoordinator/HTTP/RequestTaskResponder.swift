import Hummingbird

/// Runs each request's router pass in a task of its own, and sleeps for the long-polls that
/// parked their wait (``LongPollSlot``), between passes, in this shallow frame (decision 0019).
///
/// Hummingbird serves every request of a connection in the connection's task, and the Swift task
/// allocator keeps the memory of the deepest call chain a task ever reached until the task ends: after
/// one request through the middleware, an idle keep-alive connection held ~37 KiB of slabs (heaptrack,
/// issue 10, part 4). A task per pass gives that memory back when the pass ends.
struct RequestTaskResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == AppRequestContext {
    let inner: Inner

    func respond(to request: Request, context: AppRequestContext) async throws -> Response {
        let slot = context.longPoll
        slot.enableParking()
        var response = try await pass(request, context)
        while let parked = slot.takeParked() {
            await parked.wait.sleep(client: parked.client)
            response = try await pass(request, context)
        }
        return response
    }

    /// One pass through the router in a task of its own, cancelled with the connection's. Not an
    /// `async let`: its child task is allocated from the connection task's allocator, which then keeps
    /// another slab for good, and a finished `async let` child (with its slabs) is freed only when its
    /// scope ends.
    private func pass(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let inner = self.inner
        let task = Task { try await inner.respond(to: request, context: context) }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
