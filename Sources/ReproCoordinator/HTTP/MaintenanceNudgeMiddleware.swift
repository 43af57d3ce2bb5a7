import Hummingbird

/// Signals the score and reliability maintainers when a request that may have changed their inputs
/// ends: any request that is not a read, except the lease and heartbeat routes, which change neither
/// runs nor studies. They then run at once instead of claiming on a timer every second (issue 10,
/// part 4), so idle workers' polls wake nothing.
///
/// Signalled whatever the answer, a failure included: a request can fail after its transaction
/// committed (its deadline ran out while the answer was on its way), and a needless pass costs one
/// query.
struct MaintenanceNudgeMiddleware<Context: RequestContext>: RouterMiddleware {
    let nudge: TaskWakeup

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard Self.mayChangeScores(request) else { return try await next(request, context) }
        defer { nudge.signal() }
        return try await next(request, context)
    }

    static func mayChangeScores(_ request: Request) -> Bool {
        switch request.method {
        case .get, .head, .options: return false
        default: return !request.uri.path.hasPrefix("/v1/leases")
        }
    }
}
