import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ReproCore

/// Content-addressed code bundles: researchers upload, workers download and verify.
struct BundleController: Sendable {
    let client: DatabaseClient
    let logger: Logger

    func register(on routes: RouteGuard) {
        routes.on(.post, "/v1/bundles", roles: [.researcher, .admin], use: self.upload)
        routes.on(.get, "/v1/bundles/{sha256}", roles: [.worker, .researcher, .moderator, .admin], use: self.download)
    }

    @Sendable func upload(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let body = try await RequestBody.bytes(request, limit: RequestBody.maxBundleBytes)
        guard body.readableBytes > 0 else { throw Problem.badRequest("The bundle is empty.") }
        let bytes = Data(body.readableBytesView)
        // gzip magic: refuse anything that is not a gzipped tar before storing it.
        guard bytes.count > 2, bytes[bytes.startIndex] == 0x1f, bytes[bytes.startIndex + 1] == 0x8b else {
            throw Problem.unsupportedMediaType("A bundle is a gzipped tar (`repro submit` packs it for you).")
        }
        let sha = BundleArchive.sha256Hex(bytes)
        let size = bytes.count
        try await client.query(
            """
            INSERT INTO bundles (sha256, size, content, uploaded_by)
            VALUES (\(sha), \(size), \(bytes), \(identity.accountID))
            ON CONFLICT (sha256) DO NOTHING
            """, logger: logger)
        return try .json(BundleUploaded(sha256: sha, size: size), status: .created)
    }

    @Sendable func download(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let sha = try context.parameters.require("sha256")
        guard sha.wholeMatch(of: /[0-9a-f]{64}/) != nil else {
            throw Problem.badRequest("A bundle is named by 64 lower-case hex digits.", field: "sha256")
        }
        let rows = try await client.query("SELECT content FROM bundles WHERE sha256 = \(sha)", logger: logger)
        for try await content in rows.decode(ByteBuffer.self) {
            var headers = HTTPFields()
            headers[.contentType] = "application/gzip"
            headers[.eTag] = "\"\(sha)\""
            headers[.cacheControl] = "public, max-age=31536000, immutable"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: content))
        }
        throw Problem.notFound("No bundle \(sha).", field: "sha256")
    }
}
