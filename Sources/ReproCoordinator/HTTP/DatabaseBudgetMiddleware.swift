import Hummingbird

/// Gives every request one ``DatabaseBudget``: however many database calls it makes, it waits on
/// the database for at most `budget` in all, so it ends (with 503 when the database does not answer)
/// within the deadline plus its own work.
public struct DatabaseBudgetMiddleware<Context: RequestContext>: RouterMiddleware {
    let budget: Duration

    /// Creates the middleware.
    public init(budget: Duration) { self.budget = budget }

    /// Runs the rest of the chain with a fresh budget.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        try await DatabaseBudget.$current.withValue(DatabaseBudget(budget)) {
            try await next(request, context)
        }
    }
}
