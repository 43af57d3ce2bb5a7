import Foundation
import Hummingbird
import ReproCore

/// Lets anonymous callers read the funders' routes when the operator started the coordinator with
/// `--public-read`. They get a reader identity with the `funder` role only on the read routes listed
/// here, and the handlers then show only preprints with at least one completed study.
struct PublicReadMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Account id of the anonymous reader; no real account has it (ids are random v4 UUIDs).
    static let readerAccountID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// The anonymous reader.
    static let reader = Identity(accountID: readerAccountID, roles: [.funder], workerID: nil)

    let enabled: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard enabled, context.identity == nil, context.credentialRefusal == nil, request.method == .get, Self.isPublicPath(request.uri.path) else {
            return try await next(request, context)
        }
        var context = context
        context.identity = Self.reader
        return try await next(request, context)
    }

    /// The funders' read routes (not study reports, runs or the live score computation).
    static func isPublicPath(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard segments.first == "v1", segments.count >= 2 else { return false }
        switch (segments[1], segments.count) {
        case ("scores", 2): return true
        case ("funders", 4), ("institutions", 4): return segments[3] == "summary"
        case ("preprints", 3): return true
        case ("preprints", 4): return segments[3] == "feedback"
        case ("preprints", 5):
            return (segments[3] == "feedback" && segments[4] == "summary")
                || (segments[3] == "score" && segments[4] == "history")
        default: return false
        }
    }
}

extension Identity {
    /// True for the anonymous reader of `--public-read`.
    var isPublicReader: Bool { accountID == PublicReadMiddleware.readerAccountID }
}
