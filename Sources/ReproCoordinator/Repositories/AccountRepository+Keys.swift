import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Key management: list, create, revoke and rotate an account's keys (issue 11). Secrets are made
/// here, returned once and stored only as their SHA-256, like every other key.
extension AccountRepository {
    static let keyColumns = """
        k.id, k.prefix, k.label, k.created_at, k.last_used_at, k.expires_at, k.revoked_at, k.replaced_by,
        CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
             WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired' ELSE 'active' END
        """

    /// True when the account exists.
    func accountExists(_ id: UUID) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM accounts WHERE id = \(id)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The account's keys, oldest first.
    func keys(of account: UUID) async throws -> [APIKeyInfo] {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.keyColumns) FROM api_keys k WHERE k.account_id = \(account) ORDER BY k.created_at, k.id",
            logger: logger)
        return try await Self.decodeKeys(rows)
    }

    /// A new key for the account.
    func createKey(for account: UUID, label: String?, expiresInDays: Int?) async throws -> APIKeyCreated {
        try await client.withTransaction(logger: logger) { connection in
            try await Self.insertKey(account: account, label: label, expiresInDays: expiresInDays, on: connection, logger: logger)
        }
    }

    /// Revokes one of the account's keys; nil when the account has no such key. Refuses (409) to revoke
    /// the last active key of an account through that same key's account, which would lock it out.
    func revokeKey(_ keyID: UUID, of account: UUID, by actor: UUID) async throws -> APIKeyInfo? {
        try await client.withTransaction(logger: logger) { connection -> APIKeyInfo? in
            // Locks the account's keys, so two revocations cannot each leave the other as "the last one".
            let rows = try await connection.query(
                """
                SELECT k.id, k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
                FROM api_keys k WHERE k.account_id = \(account) ORDER BY k.id FOR UPDATE
                """, logger: logger)
            var active: [UUID: Bool] = [:]
            for try await (id, isActive) in rows.decode((UUID, Bool).self) { active[id] = isActive }
            guard let isActive = active[keyID] else { return nil }
            if isActive, actor == account, active.values.filter({ $0 }).count == 1 {
                throw Problem.conflict(
                    "This is the account's last active key; create another first (`repro accounts keys create`).",
                    field: "key_id")
            }
            try await connection.query(
                """
                UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), revoked_by = coalesce(revoked_by, \(actor))
                WHERE id = \(keyID)
                """, logger: logger)
            let info = try await connection.query(
                "SELECT \(unescaped: Self.keyColumns) FROM api_keys k WHERE k.id = \(keyID)", logger: logger)
            return try await Self.decodeKeys(info).first
        }
    }

    /// A new key replacing `keyID`, which stays valid for `grace` seconds (never longer than it would
    /// have anyway); nil when the account has no such key. A revoked or expired key cannot be rotated (409).
    func rotateKey(_ keyID: UUID, of account: UUID, graceSeconds: Int, expiresInDays: Int?) async throws -> APIKeyCreated? {
        try await client.withTransaction(logger: logger) { connection -> APIKeyCreated? in
            let rows = try await connection.query(
                """
                SELECT k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
                FROM api_keys k WHERE k.id = \(keyID) AND k.account_id = \(account) FOR UPDATE
                """, logger: logger)
            var found: Bool?
            for try await isActive in rows.decode(Bool.self) { found = isActive }
            guard let isActive = found else { return nil }
            guard isActive else {
                throw Problem.conflict("The key is revoked or expired; create a new key instead.", field: "key_id")
            }
            var created = try await Self.insertKey(
                account: account, label: nil, expiresInDays: expiresInDays, on: connection, logger: logger)
            try await connection.query(
                """
                UPDATE api_keys SET
                    expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(secs => \(graceSeconds))),
                    replaced_by = \(created.info.id)
                WHERE id = \(keyID)
                """, logger: logger)
            let old = try await connection.query(
                "SELECT \(unescaped: Self.keyColumns) FROM api_keys k WHERE k.id = \(keyID)", logger: logger)
            created.replaces = try await Self.decodeKeys(old).first
            return created
        }
    }

    static func insertKey(
        account: UUID, label: String?, expiresInDays: Int?, on connection: PostgresConnection, logger: Logger
    ) async throws -> APIKeyCreated {
        let key = APIKey.generate()
        let hash = APIKey.hash(key)
        let prefix = APIKey.prefix(key)
        let rows = try await connection.query(
            """
            INSERT INTO api_keys AS k (account_id, key_hash, prefix, label, expires_at)
            VALUES (\(account), \(hash), \(prefix), \(label),
                    CASE WHEN \(expiresInDays)::int IS NULL THEN NULL ELSE now() + make_interval(days => \(expiresInDays)::int) END)
            RETURNING \(unescaped: keyColumns)
            """, logger: logger)
        guard let info = try await decodeKeys(rows).first else { throw Problem.badRequest("The key was not stored.") }
        return APIKeyCreated(key: key, info: info)
    }

    static func decodeKeys<Rows: AsyncSequence>(_ rows: Rows) async throws -> [APIKeyInfo] where Rows.Element == PostgresRow {
        var keys: [APIKeyInfo] = []
        for try await row in rows {
            let (id, prefix, label, created, used, expires, revoked, replacedBy, state) = try row.decode(
                (UUID, String, String?, Date, Date?, Date?, Date?, UUID?, String).self)
            keys.append(
                APIKeyInfo(
                    id: id, prefix: prefix, label: label, createdAt: created, lastUsedAt: used, expiresAt: expires,
                    revokedAt: revoked, replacedBy: replacedBy, state: APIKeyInfo.State(rawValue: state) ?? .active))
        }
        return keys
    }
}
