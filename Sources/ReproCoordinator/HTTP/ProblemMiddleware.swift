import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ReproCore

/// Turns every error a route throws into a problem document, so clients never see Hummingbird's
/// default error body, and logs the ones that are the server's fault.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    /// Runs the rest of the chain and converts its errors.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as PostgresTransactionError {
            // A problem thrown inside a transaction (after the rollback) is still the client's problem.
            if let problem = error.closureError as? Problem { return problem.response() }
            context.logger.error(
                "transaction failed", metadata: ["repro.error": "\(String(reflecting: error))", "repro.path": "\(request.uri.path)"])
            return Problem.unavailable("The database could not complete the request; retry in a few seconds.").response()
        } catch let error as HTTPError {
            return Self.problem(for: error).response()
        } catch let error as DecodingError {
            return RequestBody.problem(for: error).response()
        } catch let error as PSQLError {
            // Bad input is refused before it reaches the database (lengths, ranges, NUL characters), so a
            // PSQLError is the database failing or a bug; the client can only retry.
            context.logger.error(
                "database error", metadata: ["repro.error": "\(String(reflecting: error))", "repro.path": "\(request.uri.path)"])
            // A deadlock or serialization failure (SQLSTATE class 40) rolled the transaction back whole;
            // the same request succeeds when sent again.
            if error.code == .serverClosedConnection || error.code == .connectionError || error.code == .poolClosed
                || error.code == .queryCancelled || error.serverInfo?[.sqlState]?.hasPrefix("40") == true
            {
                return Problem.unavailable("The database is not reachable right now; retry in a few seconds.").response()
            }
            return Problem(
                ProblemDetails(slug: "internal", title: "Internal error", status: 500,
                    detail: "The request failed inside the coordinator; the error was logged with request id \(context.id)."))
                .response()
        } catch {
            context.logger.error(
                "unhandled error", metadata: ["repro.error": "\(String(reflecting: error))", "repro.path": "\(request.uri.path)"])
            return Problem(
                ProblemDetails(slug: "internal", title: "Internal error", status: 500,
                    detail: "The request failed inside the coordinator; the error was logged with request id \(context.id)."))
                .response()
        }
    }

    static func problem(for error: HTTPError) -> Problem {
        let code = Int(error.status.code)
        switch code {
        case 404:
            return Problem.notFound("No route matches this path; see /openapi.yaml for the API.")
        case 405:
            return Problem(ProblemDetails(slug: "method-not-allowed", title: "Method not allowed", status: 405,
                detail: "This path does not take this method; see /openapi.yaml."))
        case 413:
            return Problem.tooLarge(error.body ?? "The request body is too large.")
        default:
            return Problem(ProblemDetails(slug: "http-\(code)", title: error.status.reasonPhrase, status: code,
                detail: error.body ?? error.status.reasonPhrase))
        }
    }
}
