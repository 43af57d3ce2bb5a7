import Hummingbird

/// Runs each request's router pass in a child task of its own, and sleeps for the long-polls that
/// parked their wait (``LongPollSlot``), between passes, in this shallow frame (decision 0018).
///
/// Hummingbird serves every request of a connection in the connection's task, and the Swift task
/// allocator keeps the memory of the deepest call chain a task ever reached until the task ends: after
/// one request through the middleware, an idle keep-alive connection held ~37 KiB of slabs (heaptrack,
/// issue 10, part 4). A child task per pass gives that memory back when the pass ends.
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

    /// One pass through the router in a child task. A function of its own: a finished `async let` child
    /// (and its slabs) is freed only when its scope ends, which must be before the sleep.
    private func pass(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        async let response = inner.respond(to: request, context: context)
        return try await response
    }
}
