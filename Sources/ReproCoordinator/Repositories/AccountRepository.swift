import Foundation
import Logging
import PostgresNIO
import ReproCore

/// Accounts, API keys and worker registrations.
///
/// Repositories are concrete types over ``DatabaseClient`` rather than protocols: the project tests
/// against a real PostgreSQL only, so a second implementation would never exist.
public struct AccountRepository: Sendable {
    let client: DatabaseClient
    let logger: Logger

    /// Creates the repository.
    public init(client: DatabaseClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A key that authenticates: not revoked and not past its expiry (a rotated key's grace period ends
    /// at its expiry). "Last used" is written at most once a minute per key, in the lookup's statement.
    static let usable = "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())"

    /// The identity owning a usable key with this hash, or nil.
    public func identity(forKeyHash hash: Data) async throws -> Identity? {
        let rows = try await client.query(
            """
            WITH touched AS (
                UPDATE api_keys SET last_used_at = now()
                WHERE key_hash = \(hash) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            )
            SELECT a.id, a.roles, w.id, w.memory_bytes, w.gpus
            FROM api_keys k
            JOIN accounts a ON a.id = k.account_id
            LEFT JOIN workers w ON w.account_id = a.id
            WHERE k.key_hash = \(hash) AND \(unescaped: Self.usable)
            """, logger: logger)
        for try await (id, roles, workerID, memory, gpus) in rows.decode((UUID, [String], UUID?, Int64?, Int?).self) {
            return Identity(
                accountID: id, roles: Set(roles.compactMap(Role.init(rawValue:))), workerID: workerID,
                workerMemoryBytes: memory ?? 0, workerGPUs: gpus ?? 0)
        }
        return nil
    }

    /// The identities owning these key hashes, for the keys still unrevoked: one query for any number
    /// of keys (``IdentityRefresher``).
    func identities(forKeyHashes hashes: [Data]) async throws -> [Data: Identity] {
        // bytea arrays have no binding here; the hashes travel as hex text.
        let hex = hashes.map { hash in hash.map { String(format: "%02x", $0) }.joined() }
        let rows = try await client.query(
            """
            WITH asked AS (SELECT decode(h, 'hex') AS hash FROM unnest(\(hex)::text[]) AS h),
            touched AS (
                UPDATE api_keys SET last_used_at = now()
                WHERE key_hash IN (SELECT hash FROM asked)
                  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            )
            SELECT k.key_hash, a.id, a.roles, w.id, w.memory_bytes, w.gpus
            FROM api_keys k
            JOIN accounts a ON a.id = k.account_id
            LEFT JOIN workers w ON w.account_id = a.id
            WHERE k.key_hash IN (SELECT hash FROM asked) AND \(unescaped: Self.usable)
            """, logger: logger)
        var found: [Data: Identity] = [:]
        for try await (hash, id, roles, workerID, memory, gpus)
            in rows.decode((Data, UUID, [String], UUID?, Int64?, Int?).self)
        {
            found[hash] = Identity(
                accountID: id, roles: Set(roles.compactMap(Role.init(rawValue:))), workerID: workerID,
                workerMemoryBytes: memory ?? 0, workerGPUs: gpus ?? 0)
        }
        return found
    }

    /// Creates an account with its first key, in one transaction.
    public func createAccount(name: String, roles: [Role], key: String = APIKey.generate()) async throws
        -> AccountCreated
    {
        let roleNames = roles.map(\.rawValue)
        let hash = APIKey.hash(key)
        let prefix = APIKey.prefix(key)
        let id = try await client.withTransaction(logger: logger) { connection -> UUID in
            let rows = try await connection.query(
                "INSERT INTO accounts (name, roles) VALUES (\(name), \(roleNames)) RETURNING id", logger: logger)
            var accountID: UUID?
            for try await id in rows.decode(UUID.self) { accountID = id }
            guard let accountID else { throw Problem.badRequest("account was not created") }
            try await connection.query(
                "INSERT INTO api_keys (account_id, key_hash, prefix) VALUES (\(accountID), \(hash), \(prefix))",
                logger: logger)
            return accountID
        }
        return AccountCreated(accountID: id, key: key, roles: roles)
    }

    /// Creates the first admin account when none exists, under an advisory lock so that replicas
    /// starting together create one. Returns the new key (to print once), or nil when an admin existed.
    public func bootstrapAdmin(key: String?) async throws -> String? {
        let key = key ?? APIKey.generate()
        let hash = APIKey.hash(key)
        let prefix = APIKey.prefix(key)
        return try await client.withTransaction(logger: logger) { connection -> String? in
            try await connection.query("SELECT pg_advisory_xact_lock(4242001)", logger: logger)
            let rows = try await connection.query(
                "SELECT count(*) FROM accounts WHERE 'admin' = ANY(roles)", logger: logger)
            var count: Int64 = 0
            for try await value in rows.decode(Int64.self) { count = value }
            guard count == 0 else { return nil }
            let roles = [Role.admin.rawValue]
            let created = try await connection.query(
                "INSERT INTO accounts (name, roles) VALUES ('admin', \(roles)) RETURNING id", logger: logger)
            var accountID: UUID?
            for try await id in created.decode(UUID.self) { accountID = id }
            try await connection.query(
                "INSERT INTO api_keys (account_id, key_hash, prefix) VALUES (\(accountID!), \(hash), \(prefix))",
                logger: logger)
            return key
        }
    }

    /// Registers a worker process for a volunteer: a new account with the `worker` role, its token
    /// and the worker row, in one transaction.
    public func registerWorker(owner: UUID, registration: WorkerRegistration) async throws -> WorkerRegistered {
        let token = APIKey.generate()
        let hash = APIKey.hash(token)
        let prefix = APIKey.prefix(token)
        let roles = [Role.worker.rawValue]
        let name = registration.name
        let slots = registration.slots
        let cpus = registration.cpus
        let memory = registration.memoryBytes
        let gpus = registration.gpus
        let hardware = registration.hardwareClass
        let workerID = try await client.withTransaction(logger: logger) { connection -> UUID in
            let rows = try await connection.query(
                "INSERT INTO accounts (name, roles) VALUES (\(name), \(roles)) RETURNING id", logger: logger)
            var accountID: UUID?
            for try await id in rows.decode(UUID.self) { accountID = id }
            try await connection.query(
                "INSERT INTO api_keys (account_id, key_hash, prefix) VALUES (\(accountID!), \(hash), \(prefix))",
                logger: logger)
            let workers = try await connection.query(
                """
                INSERT INTO workers (account_id, owner_account_id, name, slots, cpus, memory_bytes, gpus, hardware_class)
                VALUES (\(accountID!), \(owner), \(name), \(slots), \(cpus), \(memory), \(gpus), \(hardware))
                RETURNING id
                """, logger: logger)
            var workerID: UUID?
            for try await id in workers.decode(UUID.self) { workerID = id }
            return workerID!
        }
        return WorkerRegistered(workerID: workerID, token: token)
    }
}
