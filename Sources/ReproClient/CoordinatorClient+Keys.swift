import Foundation
import ReproCore

extension CoordinatorClient {
    /// An account's keys (`me`: the caller's own).
    public func keys(account: String = "me") async throws -> APIKeyList {
        try await call(.GET, "/v1/accounts/\(account)/keys")
    }

    /// A new key for the account; the secret is in the answer only.
    public func createKey(account: String = "me", label: String? = nil, expiresInDays: Int? = nil) async throws
        -> APIKeyCreated
    {
        try await call(.POST, "/v1/accounts/\(account)/keys", json: APIKeyCreateRequest(label: label, expiresInDays: expiresInDays))
    }

    /// Revokes a key; it stops working within the coordinator's auth cache TTL.
    public func revokeKey(_ key: UUID, account: String = "me") async throws -> APIKeyInfo {
        try await call(.DELETE, "/v1/accounts/\(account)/keys/\(key.uuidString.lowercased())")
    }

    /// A new key replacing `key`, which stays valid for `graceSeconds`.
    public func rotateKey(_ key: UUID, account: String = "me", graceSeconds: Int? = nil, expiresInDays: Int? = nil)
        async throws -> APIKeyCreated
    {
        try await call(
            .POST, "/v1/accounts/\(account)/keys/\(key.uuidString.lowercased())/rotate",
            json: APIKeyRotateRequest(graceSeconds: graceSeconds, expiresInDays: expiresInDays))
    }
}
