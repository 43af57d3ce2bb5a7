import Foundation
import Logging
import PostgresNIO

/// Runs a short piece of work against the coordinator's database outside the server (the
/// `migrate` and `keys` commands): starts the embedded cluster when needed and stops what it started.
public enum DatabaseSession {
    /// Runs `body` with a running client.
    public static func with<T: Sendable>(
        _ database: CoordinatorConfiguration.Database, logger: Logger,
        _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        var embedded: EmbeddedPostgres?
        let configuration: PostgresClient.Configuration
        switch database {
        case .url(let url):
            configuration = try DatabaseURL(url).configuration()
        case .embedded(let dataDirectory, let tcpPort):
            let postgres = EmbeddedPostgres(
                dataDirectory: dataDirectory.map { URL(fileURLWithPath: $0) }, port: tcpPort, logger: logger)
            configuration = try await postgres.start()
            embedded = postgres
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do {
                return .success(try await body(client))
            } catch {
                return .failure(error)
            }
        }
        if let embedded { try? await embedded.stop() }
        return try result.get()
    }
}
