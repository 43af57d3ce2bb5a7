import Foundation
import ReproCore

extension CoordinatorClient {
    /// The coordinator's public signing keys (no key needed).
    public func signingKeys() async throws -> SigningKeyring {
        try await call(.GET, "/v1/signing-keys")
    }

    /// Studies waiting for review (moderators, admins).
    public func pendingReviews() async throws -> [ReviewListItem] {
        try await call(.GET, "/v1/reviews", as: ReviewList.self).studies
    }

    /// What a moderator reads before deciding.
    public func reviewDocument(_ id: UUID) async throws -> ReviewDocument {
        try await call(.GET, "/v1/reviews/\(id)")
    }

    /// Approves a pending study: the coordinator signs its manifest and queues its tasks.
    public func approveStudy(_ id: UUID, note: String? = nil) async throws -> StudyStatus {
        try await call(.POST, "/v1/reviews/\(id)/approve", json: ApproveRequest(reason: note))
    }

    /// Rejects a pending study with a reason its owner sees.
    public func rejectStudy(_ id: UUID, reason: String) async throws -> StudyStatus {
        try await call(.POST, "/v1/reviews/\(id)/reject", json: RejectRequest(reason: reason))
    }

    /// The moderation audit log, newest first.
    public func moderationLog(study: UUID? = nil, limit: Int = 100) async throws -> [AuditEntry] {
        var path = "/v1/moderation/log?limit=\(limit)"
        if let study { path += "&study=\(study.uuidString.lowercased())" }
        return try await call(.GET, path, as: AuditLog.self).entries
    }

    /// Marks an account trusted or not (admins).
    public func setTrusted(_ account: UUID, trusted: Bool, reason: String? = nil) async throws -> AccountTrust {
        try await call(.POST, "/v1/accounts/\(account)/trust", json: TrustRequest(trusted: trusted, reason: reason))
    }
}
