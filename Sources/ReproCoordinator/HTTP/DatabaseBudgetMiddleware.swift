import Hummingbird

/// Gives every request one ``DatabaseBudget``: however many database calls it makes, it waits on
/// the database for at most `budget` in all, so it ends (with 503 when the database does not answer)
/// within the deadline plus its own work. A long-poll's passes through the router (``LongPollSlot``)
/// share one budget, as they are one request.
public struct DatabaseBudgetMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let budget: Duration

    /// Creates the middleware.
    public init(budget: Duration) { self.budget = budget }

    /// Runs the rest of the chain with a fresh budget.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        try await DatabaseBudget.$current.withValue(context.longPoll.budget { DatabaseBudget(budget) }) {
            try await next(request, context)
        }
    }
}
