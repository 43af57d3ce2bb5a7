import Foundation
import Hummingbird
import Logging
import ReproCore

/// Turns every error a route throws into a problem document, so clients never see Hummingbird's
/// default error body, and logs the ones that are the server's fault.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes served, to answer 405 with `Allow` for a known path and an undeclared method.
    let catalogue: RouteCatalogue?

    /// Creates the middleware.
    public init(catalogue: RouteCatalogue? = nil) { self.catalogue = catalogue }

    /// Runs the rest of the chain and converts its errors.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response()
        } catch let error as HTTPError {
            if error.status == .notFound, let catalogue {
                // The router answers 404 for a known path with a method it does not take.
                let methods = Set(catalogue.routes(matching: request.uri.path).map(\.method.rawValue)).sorted()
                if !methods.isEmpty {
                    var problem = Problem(ProblemDetails(
                        slug: "method-not-allowed", title: "Method not allowed", status: 405,
                        detail: "\(request.method.rawValue) is not allowed here; this path takes \(methods.joined(separator: ", ")).",
                        field: "method"))
                    problem.headers[.allow] = methods.joined(separator: ", ")
                    return problem.response()
                }
            }
            return Self.problem(for: error).response()
        } catch let error as DecodingError {
            return RequestBody.problem(for: error).response()
        } catch {
            // Every database call goes through DatabaseClient, which already turned "the database
            // cannot answer now" into DatabaseUnavailable; classifying again here also covers any
            // error that reached the route another way.
            if let unavailable = DatabaseUnavailable.classify(error) as? DatabaseUnavailable {
                // Not the client's fault and not a bug: the database is crashing, restarting or slow.
                context.logger.warning(
                    "database unavailable; answered 503",
                    metadata: [
                        "repro.database.reason": "\(unavailable.reason.rawValue)",
                        "repro.error": "\(String(reflecting: unavailable.underlying))", "repro.path": "\(request.uri.path)",
                    ])
                return Problem.unavailable(Self.detail(for: unavailable.reason)).response()
            }
            // Bad input is refused before it reaches the database (lengths, ranges, NUL characters),
            // so anything else, a PSQLError included, is a bug.
            context.logger.error(
                "unhandled error", metadata: ["repro.error": "\(String(reflecting: error))", "repro.path": "\(request.uri.path)"])
            return Problem(
                ProblemDetails(slug: "internal", title: "Internal error", status: 500,
                    detail: "The request failed inside the coordinator; the error was logged with request id \(context.id)."))
                .response()
        }
    }

    static func detail(for reason: DatabaseUnavailable.Reason) -> String {
        switch reason {
        case .deadlineExceeded: "The database did not answer in time; retry in a few seconds."
        case .connectionLost, .unreachable: "The database is not reachable right now; retry in a few seconds."
        case .rolledBack: "The database rolled the request back to resolve a conflict; send it again."
        case .interrupted: "The coordinator is shutting down; retry in a few seconds."
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
