import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Stores dashboard sessions: only the SHA-256 of the cookie's id, tied to the API key that opened it.
public struct SessionRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger
    /// How long a session lasts after sign-in.
    static let lifetime: TimeInterval = 12 * 3600

    public init(client: DatabaseClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Opens a session for an unrevoked API key; returns the cookie value and the session, or nil when
    /// the key is unknown or revoked.
    func open(apiKey: String) async throws -> (cookie: String, session: WebSession)? {
        let keyHash = APIKey.hash(apiKey)
        let cookie = WebToken.generate()
        let csrf = WebToken.generate()
        let expires = Date().addingTimeInterval(Self.lifetime)
        return try await client.withTransaction(logger: logger) { connection -> (cookie: String, session: WebSession)? in
            // Sessions past their expiry are swept here rather than by a timer: sign-ins are rare.
            try await connection.query("DELETE FROM web_sessions WHERE expires_at < now()", logger: logger)
            let rows = try await connection.query(
                """
                INSERT INTO web_sessions (id_hash, key_id, csrf_token, expires_at)
                SELECT \(APIKey.hash(cookie)), k.id, \(csrf), \(expires)
                FROM api_keys k WHERE k.key_hash = \(keyHash) AND k.revoked_at IS NULL
                RETURNING key_id
                """, logger: logger)
            var opened = false
            for try await _ in rows.decode(UUID.self) { opened = true }
            guard opened else { return nil }
            let identity = try await Self.identity(sessionHash: APIKey.hash(cookie), on: connection, logger: logger)
            guard let identity else { return nil }
            return (cookie: cookie, session: WebSession(identity: identity.0, csrfToken: csrf, expiresAt: expires))
        }
    }

    /// The live session of a cookie value, or nil (unknown, expired, or its key revoked).
    func session(cookie: String) async throws -> WebSession? {
        let rows = try await client.query(
            """
            SELECT a.id, a.roles, s.csrf_token, s.expires_at
            FROM web_sessions s
            JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL
            JOIN accounts a ON a.id = k.account_id
            WHERE s.id_hash = \(APIKey.hash(cookie)) AND s.expires_at > now()
            """, logger: logger)
        for try await (id, roles, csrf, expires) in rows.decode((UUID, [String], String, Date).self) {
            return WebSession(
                identity: Identity(accountID: id, roles: Set(roles.compactMap(Role.init(rawValue:))), workerID: nil),
                csrfToken: csrf, expiresAt: expires)
        }
        return nil
    }

    /// Ends a session (sign-out).
    func close(cookie: String) async throws {
        try await client.query("DELETE FROM web_sessions WHERE id_hash = \(APIKey.hash(cookie))", logger: logger)
    }

    private static func identity(sessionHash: Data, on connection: PostgresConnection, logger: Logger) async throws
        -> (Identity, String)?
    {
        let rows = try await connection.query(
            """
            SELECT a.id, a.roles, s.csrf_token FROM web_sessions s
            JOIN api_keys k ON k.id = s.key_id JOIN accounts a ON a.id = k.account_id
            WHERE s.id_hash = \(sessionHash)
            """, logger: logger)
        for try await (id, roles, csrf) in rows.decode((UUID, [String], String).self) {
            return (Identity(accountID: id, roles: Set(roles.compactMap(Role.init(rawValue:))), workerID: nil), csrf)
        }
        return nil
    }
}
