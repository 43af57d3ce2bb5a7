import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// Liveness, readiness and the API document: public routes.
struct HealthController: Sendable {
    let client: DatabaseClient
    let logger: Logger

    func register(on routes: RouteGuard) {
        routes.public(.get, "/healthz") { _, _ in try .json(["status": "ok"]) }
        routes.public(.get, "/readyz", use: self.ready)
        routes.public(.get, "/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
    }

    /// Ready when the database answers within two seconds.
    @Sendable func ready(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        do {
            _ = try await DatabaseBudget.$current.withValue(DatabaseBudget(.seconds(2))) {
                try await client.query("SELECT 1", logger: logger)
            }
        } catch {
            throw Problem.unavailable("The database does not answer.")
        }
        return try .json(["status": "ready"])
    }
}

/// The OpenAPI document, loaded once from the module's resources.
enum OpenAPIDocument {
    static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\ninfo: {title: ReproGrid, version: missing}\npaths: {}\n" }
        return text
    }()
}
