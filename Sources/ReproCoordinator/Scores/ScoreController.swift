import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReproCore

/// The funders' queries: the scores table (JSON or CSV) and summaries per funder and institution.
struct ScoreController: Sendable {
    let scores: ScoreRepository

    func register(on routes: RouteGuard) {
        routes.on(.get, "/v1/scores", roles: PreprintController.readers, use: self.list)
        routes.on(.get, "/v1/funders/{funder}/summary", roles: PreprintController.readers, use: self.funder)
        routes.on(.get, "/v1/institutions/{institution}/summary", roles: PreprintController.readers, use: self.institution)
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        var query = try ScoreQuery(request: request)
        query.completedOnly = identity.isPublicReader
        let page = try await scores.page(query)
        guard query.csv else { return try .json(page) }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8; header=present"
        // CSV has no place for the cursor, so the next page's cursor travels in a header.
        if let next = page.nextCursor { headers[HTTPField.Name("X-Next-Cursor")!] = next }
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ScoresCSV.render(page.rows))))
    }

    @Sendable func funder(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let name = try PreprintPath.text(context, parameter: "funder")
        return try .json(try await scores.summary(of: .funder, name: name, completedOnly: identity.isPublicReader))
    }

    @Sendable func institution(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let name = try PreprintPath.text(context, parameter: "institution")
        return try .json(try await scores.summary(of: .institution, name: name, completedOnly: identity.isPublicReader))
    }
}
