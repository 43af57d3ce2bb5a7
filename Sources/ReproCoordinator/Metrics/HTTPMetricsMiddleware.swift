import Hummingbird

/// Counts and times every request by route template, method and status. Outermost, so the status is
/// the one the client got after ``ProblemMiddleware`` turned errors into problem documents. A long-poll
/// that parked its wait (``LongPollSlot``) is counted once, on its last pass, timed from its first.
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = context.longPoll.started(now: .now)
        do {
            let response = try await next(request, context)
            // The pass that parked answers with a placeholder nobody receives.
            if context.longPoll.isParked { return response }
            record(request, context, status: response.status.code, started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: status, started: started)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, started: ContinuousClock.Instant) {
        // Unmatched paths are whatever a scanner sends: one series for all of them. Hummingbird names
        // them "NotFound" (not a path) or leaves the endpoint unset.
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
        CoordinatorMetrics.request(
            route: route, method: request.method.rawValue, status: status,
            duration: .now - started)
    }
}
