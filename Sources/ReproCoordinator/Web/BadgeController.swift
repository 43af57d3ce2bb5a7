import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReproCore
import ReproPlots

/// `GET /v1/preprints/{id}/badge.svg`: a public badge for READMEs, cacheable with an ETag.
///
/// Only preprints with a completed study show a score (what `--public-read` shows); any other id,
/// known or not, gets the same "not yet scored" badge, so the badge reveals nothing the public may
/// not read.
struct BadgeController: Sendable {
    let preprints: PreprintRepository

    func register(on routes: RouteGuard) {
        routes.public(.get, "/v1/preprints/{id}/badge.svg", use: self.badge)
    }

    @Sendable func badge(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = try PreprintPath.id(context)
        let entry = try await preprints.badgeScore(id)
        let svg = Badge.score(entry?.score, reproduced: entry?.reproduced ?? 0, decided: entry?.decided ?? 0)
        let etag = "\"" + SHA256.hash(data: Data(svg.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
        var headers = HTTPFields()
        headers[.eTag] = etag
        // Short: a badge should follow a new score within minutes; revalidation is cheap (304).
        headers[.cacheControl] = "public, max-age=300"
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "image/svg+xml; charset=utf-8"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: svg)))
    }
}
