import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReproCore

/// A problem document thrown by a handler; rendered as `application/problem+json` with its status.
public struct Problem: HTTPResponseError, CustomStringConvertible {
    /// The document sent to the client.
    public var details: ProblemDetails
    /// Seconds the client should wait before sending the request again (`Retry-After`), for
    /// problems that pass by themselves.
    public var retryAfterSeconds: Int?
    /// Further headers of the answer (`Allow` of a 405).
    public var headers = HTTPFields()

    /// Wraps a problem document.
    public init(_ details: ProblemDetails, retryAfterSeconds: Int? = nil) {
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The HTTP status of the problem.
    public var status: HTTPResponse.Status { .init(code: details.status) }

    /// The detail, for logs.
    public var description: String { details.description }

    /// Renders the problem as `application/problem+json`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        self.response()
    }

    /// Renders the problem as `application/problem+json` without a request.
    public func response() -> Response {
        let data = (try? WireCoding.encoder().encode(details)) ?? Data()
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        if let retryAfterSeconds { headers[.retryAfter] = "\(retryAfterSeconds)" }
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The problems the coordinator answers with, each with a stable `type` slug.
extension Problem {
    /// 400: the body is not valid JSON / YAML or not of the expected shape.
    public static func badRequest(_ detail: String, field: String? = nil) -> Problem {
        Problem(ProblemDetails(slug: "bad-request", title: "Bad request", status: 400, detail: detail, field: field))
    }

    /// 401: no key, or a key that is unknown or revoked.
    public static func unauthenticated(_ detail: String) -> Problem {
        Problem(ProblemDetails(slug: "unauthenticated", title: "Authentication required", status: 401, detail: detail,
            field: "Authorization"))
    }

    /// 403: the key is valid but its roles do not admit the route, or the object belongs to someone else.
    public static func forbidden(_ detail: String) -> Problem {
        Problem(ProblemDetails(slug: "forbidden", title: "Forbidden", status: 403, detail: detail))
    }

    /// 404: no such object (also used for objects the caller may not see, to not reveal them).
    public static func notFound(_ detail: String, field: String? = nil) -> Problem {
        Problem(ProblemDetails(slug: "not-found", title: "Not found", status: 404, detail: detail, field: field))
    }

    /// 409: the request conflicts with the current state (lost lease, finished study).
    public static func conflict(_ detail: String, field: String? = nil) -> Problem {
        Problem(ProblemDetails(slug: "conflict", title: "Conflict", status: 409, detail: detail, field: field))
    }

    /// 413: the body is larger than the route admits.
    public static func tooLarge(_ detail: String) -> Problem {
        Problem(ProblemDetails(slug: "too-large", title: "Content too large", status: 413, detail: detail))
    }

    /// 415: a body type the route does not read.
    public static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(ProblemDetails(slug: "unsupported-media-type", title: "Unsupported media type", status: 415, detail: detail,
            field: "Content-Type"))
    }

    /// 422: well-formed but invalid (a study spec that fails validation), with every issue found.
    public static func invalid(_ detail: String, issues: [ProblemDetails.FieldIssue]) -> Problem {
        Problem(ProblemDetails(slug: "invalid", title: "Validation failed", status: 422, detail: detail,
            field: issues.first?.path, issues: issues))
    }

    /// 503: the database cannot answer now; the client should send the request again after
    /// `Retry-After` seconds (every coordinator write can be resent safely).
    public static func unavailable(
        _ detail: String, retryAfterSeconds: Int = DatabaseUnavailable.retryAfterSeconds
    ) -> Problem {
        Problem(
            ProblemDetails(slug: "unavailable", title: "Service unavailable", status: 503, detail: detail),
            retryAfterSeconds: retryAfterSeconds)
    }
}
