import Foundation
import HTTPTypes
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Issue 11, keys: an account lists, creates, revokes and rotates its own keys; an admin any account's;
/// revoked and expired keys stop authenticating; a rotated key works until its grace period ends.
@Suite("API key management", .serialized)
struct KeyManagementTests {
    static func works(_ harness: CoordinatorHarness, _ key: String) async throws -> Bool {
        let response = try await harness.request(.get, "/v1/accounts/me/keys", key: key)
        return response.status == .ok
    }

    @Test("list shows prefix, creation and last use; a second key works; revoking one leaves the other")
    func createListRevoke() async throws {
        try await CoordinatorHarness.run { harness in
            let account = try await harness.account([.researcher], name: "r")
            let list: APIKeyList = try await harness.call(.get, "/v1/accounts/me/keys", key: account.key)
            #expect(list.accountID == account.accountID)
            let first = try #require(list.keys.first)
            #expect(list.keys.count == 1)
            #expect(first.prefix == String(account.key.prefix(10)))
            #expect(first.lastUsedAt != nil)
            #expect(first.state == .active)

            let second: APIKeyCreated = try await harness.call(
                .post, "/v1/accounts/me/keys", key: account.key, json: APIKeyCreateRequest(label: "laptop", expiresInDays: 30))
            #expect(second.info.label == "laptop")
            #expect(second.info.expiresAt != nil)
            #expect(try await Self.works(harness, second.key))

            let revoked: APIKeyInfo = try await harness.call(
                .delete, "/v1/accounts/me/keys/\(first.id)", key: second.key)
            #expect(revoked.state == .revoked)
            #expect(try await !Self.works(harness, account.key))
            #expect(try await Self.works(harness, second.key))

            // The last active key of one's own account cannot be revoked by itself (lock-out).
            let last = try await harness.request(.delete, "/v1/accounts/me/keys/\(second.info.id)", key: second.key)
            #expect(last.status == .conflict)
            // No secret or hash appears in a listing.
            let raw = try await harness.request(.get, "/v1/accounts/me/keys", key: second.key)
            #expect(!String(buffer: raw.body).contains(second.key))
        }
    }

    @Test("an account cannot see or revoke another's keys (404); an admin revokes any")
    func ownership() async throws {
        try await CoordinatorHarness.run { harness in
            let alice = try await harness.account([.researcher], name: "alice")
            let bob = try await harness.account([.community], name: "bob")
            let bobKeys: APIKeyList = try await harness.call(.get, "/v1/accounts/me/keys", key: bob.key)
            let bobKey = try #require(bobKeys.keys.first)

            let peek = try await harness.request(.get, "/v1/accounts/\(bob.accountID)/keys", key: alice.key)
            #expect(peek.status == .notFound)
            let revoke = try await harness.request(.delete, "/v1/accounts/\(bob.accountID)/keys/\(bobKey.id)", key: alice.key)
            #expect(revoke.status == .notFound)
            // A key id of another account under one's own account is 404 too.
            let crossed = try await harness.request(.delete, "/v1/accounts/me/keys/\(bobKey.id)", key: alice.key)
            #expect(crossed.status == .notFound)
            #expect(try await Self.works(harness, bob.key))

            let byAdmin: APIKeyInfo = try await harness.call(
                .delete, "/v1/accounts/\(bob.accountID)/keys/\(bobKey.id)", key: CoordinatorHarness.adminKey)
            #expect(byAdmin.state == .revoked)
            #expect(try await !Self.works(harness, bob.key))
            // The revocation records who made it.
            let rows = try await harness.database.client.query("SELECT revoked_by FROM api_keys WHERE id = \(bobKey.id)")
            for try await revokedBy in rows.decode(UUID?.self) { #expect(revokedBy != nil && revokedBy != bob.accountID) }
        }
    }

    @Test("rotation: the old key works during its grace period and not after; expired keys are refused")
    func rotationAndExpiry() async throws {
        try await CoordinatorHarness.run { harness in
            let account = try await harness.account([.funder], name: "f")
            let keys: APIKeyList = try await harness.call(.get, "/v1/accounts/me/keys", key: account.key)
            let old = try #require(keys.keys.first)

            let rotated: APIKeyCreated = try await harness.call(
                .post, "/v1/accounts/me/keys/\(old.id)/rotate", key: account.key, json: APIKeyRotateRequest(graceSeconds: 3600))
            #expect(rotated.replaces?.replacedBy == rotated.info.id)
            #expect(rotated.replaces?.expiresAt != nil)
            #expect(try await Self.works(harness, account.key))
            #expect(try await Self.works(harness, rotated.key))

            // The grace period ends: move the expiry into the past as time would.
            try await harness.database.client.query(
                "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = \(old.id)")
            #expect(try await !Self.works(harness, account.key))
            let listed: APIKeyList = try await harness.call(.get, "/v1/accounts/me/keys", key: rotated.key)
            #expect(listed.keys.first { $0.id == old.id }?.state == .expired)
            // An expired key cannot be rotated again.
            let again = try await harness.request(.post, "/v1/accounts/me/keys/\(old.id)/rotate", key: rotated.key)
            #expect(again.status == .conflict)

            // Rotation without grace ends the old key at once.
            let immediate: APIKeyCreated = try await harness.call(
                .post, "/v1/accounts/me/keys/\(rotated.info.id)/rotate", key: rotated.key,
                json: APIKeyRotateRequest(graceSeconds: 0))
            #expect(try await !Self.works(harness, rotated.key))
            #expect(try await Self.works(harness, immediate.key))

            let bad = try await harness.request(
                .post, "/v1/accounts/me/keys", key: immediate.key, json: APIKeyCreateRequest(expiresInDays: 0))
            #expect(bad.status == .badRequest)
            #expect(try CoordinatorHarness.problem(bad).field == "expires_in_days")
        }
    }

    @Test("a revoked key stops working within the auth cache TTL, with the cache on")
    func revocationWithinCacheTTL() async throws {
        try await CoordinatorHarness.run(authCacheTTL: .milliseconds(400)) { harness in
            let account = try await harness.account([.researcher], name: "cached")
            let spare: APIKeyCreated = try await harness.call(.post, "/v1/accounts/me/keys", key: account.key)
            let keys: APIKeyList = try await harness.call(.get, "/v1/accounts/me/keys", key: spare.key)
            let first = try #require(keys.keys.first { $0.id != spare.info.id })
            #expect(try await Self.works(harness, account.key))  // now cached
            let _: APIKeyInfo = try await harness.call(.delete, "/v1/accounts/me/keys/\(first.id)", key: spare.key)
            // Not a timing assertion: waits past the TTL (generously), then the key must be refused.
            try await Task.sleep(for: .seconds(2))
            #expect(try await !Self.works(harness, account.key))
        }
    }
}
