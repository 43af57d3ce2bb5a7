import Foundation
import Hummingbird
import ReproCore

/// An account's API keys: list, create, revoke, rotate. An account manages its own keys (`{id}` may be
/// `me`); an admin manages anyone's. Another account's keys are 404 to non-admins, so ids are not probed.
struct KeyController: Sendable {
    let accounts: AccountRepository

    /// Every role with keys of its own; worker tokens come from registration and are not managed here.
    static let holders: Set<Role> = [.admin, .researcher, .volunteer, .funder, .moderator, .community]
    static let maxGraceSeconds = 30 * 86_400
    static let defaultGraceSeconds = 86_400

    func register(on routes: RouteGuard) {
        routes.on(.get, "/v1/accounts/{id}/keys", roles: Self.holders, use: self.list)
        routes.on(.post, "/v1/accounts/{id}/keys", roles: Self.holders, use: self.create)
        routes.on(.delete, "/v1/accounts/{id}/keys/{key_id}", roles: Self.holders, use: self.revoke)
        routes.on(.post, "/v1/accounts/{id}/keys/{key_id}/rotate", roles: Self.holders, use: self.rotate)
    }

    /// The account named by `{id}` when the caller may manage its keys.
    func account(_ context: AppRequestContext, _ identity: Identity) async throws -> UUID {
        let raw = try context.parameters.require("id")
        let id: UUID
        if raw == "me" {
            id = identity.accountID
        } else {
            guard let parsed = UUID(uuidString: raw) else {
                throw Problem.badRequest("id must be an account id (a UUID) or `me`.", field: "id")
            }
            id = parsed
        }
        guard id == identity.accountID || identity.isAdmin, try await accounts.accountExists(id) else {
            throw Problem.notFound("No account \(raw) whose keys you may manage.", field: "id")
        }
        return id
    }

    func keyID(_ context: AppRequestContext) throws -> UUID {
        let raw = try context.parameters.require("key_id")
        guard let id = UUID(uuidString: raw) else {
            throw Problem.badRequest("key_id must be a key id (a UUID) from the key list.", field: "key_id")
        }
        return id
    }

    static func expiry(_ days: Int?) throws -> Int? {
        guard let days else { return nil }
        guard (1...3_650).contains(days) else {
            throw Problem.badRequest("expires_in_days must be from 1 to 3650.", field: "expires_in_days")
        }
        return days
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await account(context, identity)
        return try .json(APIKeyList(accountID: id, keys: try await accounts.keys(of: id)))
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await account(context, identity)
        let body = try await RequestBody.optionalJSON(APIKeyCreateRequest.self, from: request) ?? APIKeyCreateRequest()
        var label = body.label?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let text = label {
            guard (1...100).contains(text.count) else {
                throw Problem.badRequest("label must be 1–100 characters.", field: "label")
            }
        } else {
            label = nil
        }
        let created = try await accounts.createKey(for: id, label: label, expiresInDays: try Self.expiry(body.expiresInDays))
        context.logger.info(
            "api key created", metadata: ["repro.account.id": "\(id)", "repro.key.id": "\(created.info.id)"])
        return try .json(created, status: .created)
    }

    @Sendable func revoke(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await account(context, identity)
        let key = try keyID(context)
        guard let info = try await accounts.revokeKey(key, of: id, by: identity.accountID) else {
            throw Problem.notFound("Account \(id) has no key \(key).", field: "key_id")
        }
        context.logger.notice("api key revoked", metadata: ["repro.account.id": "\(id)", "repro.key.id": "\(key)"])
        return try .json(info)
    }

    @Sendable func rotate(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await account(context, identity)
        let key = try keyID(context)
        let body = try await RequestBody.optionalJSON(APIKeyRotateRequest.self, from: request) ?? APIKeyRotateRequest()
        let grace = body.graceSeconds ?? Self.defaultGraceSeconds
        guard (0...Self.maxGraceSeconds).contains(grace) else {
            throw Problem.badRequest("grace_seconds must be from 0 to \(Self.maxGraceSeconds) (30 days).", field: "grace_seconds")
        }
        guard
            let created = try await accounts.rotateKey(
                key, of: id, graceSeconds: grace, expiresInDays: try Self.expiry(body.expiresInDays))
        else {
            throw Problem.notFound("Account \(id) has no key \(key).", field: "key_id")
        }
        context.logger.notice(
            "api key rotated",
            metadata: ["repro.account.id": "\(id)", "repro.key.id": "\(key)", "repro.key.new_id": "\(created.info.id)"])
        return try .json(created, status: .created)
    }
}
