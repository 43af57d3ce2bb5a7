import Foundation

/// One API key of an account as listings show it: never the secret, only its first characters.
public struct APIKeyInfo: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case active, expired, revoked
    }

    public var id: UUID
    /// The first 10 characters of the key (`rg_` and 7 more), to tell keys apart.
    public var prefix: String
    public var label: String?
    public var createdAt: Date
    /// When a request last presented the key, to within a minute; nil when never.
    public var lastUsedAt: Date?
    public var expiresAt: Date?
    public var revokedAt: Date?
    /// The key that replaced this one by rotation.
    public var replacedBy: UUID?
    public var state: State

    enum CodingKeys: String, CodingKey {
        case id, prefix, label, state
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case replacedBy = "replaced_by"
    }

    public init(
        id: UUID, prefix: String, label: String?, createdAt: Date, lastUsedAt: Date?, expiresAt: Date?, revokedAt: Date?,
        replacedBy: UUID?, state: State
    ) {
        self.id = id
        self.prefix = prefix
        self.label = label
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.replacedBy = replacedBy
        self.state = state
    }
}

/// `GET /v1/accounts/{id}/keys`.
public struct APIKeyList: Codable, Sendable {
    public var accountID: UUID
    public var keys: [APIKeyInfo]

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case keys
    }

    public init(accountID: UUID, keys: [APIKeyInfo]) {
        self.accountID = accountID
        self.keys = keys
    }
}

/// `POST /v1/accounts/{id}/keys`: a new key, optionally labelled and expiring.
public struct APIKeyCreateRequest: Codable, Sendable {
    public var label: String?
    /// Days until the key expires (1–3650); nil never expires.
    public var expiresInDays: Int?

    enum CodingKeys: String, CodingKey {
        case label
        case expiresInDays = "expires_in_days"
    }

    public init(label: String? = nil, expiresInDays: Int? = nil) {
        self.label = label
        self.expiresInDays = expiresInDays
    }
}

/// `POST /v1/accounts/{id}/keys/{key_id}/rotate`: a new key, the old one valid for a grace period.
public struct APIKeyRotateRequest: Codable, Sendable {
    /// Seconds the old key stays valid (0–2 592 000, 30 days); default 86 400 (a day).
    public var graceSeconds: Int?
    /// Days until the new key expires; nil never expires.
    public var expiresInDays: Int?

    enum CodingKeys: String, CodingKey {
        case graceSeconds = "grace_seconds"
        case expiresInDays = "expires_in_days"
    }

    public init(graceSeconds: Int? = nil, expiresInDays: Int? = nil) {
        self.graceSeconds = graceSeconds
        self.expiresInDays = expiresInDays
    }
}

/// A key just made: the secret appears here once. For a rotation, `replaces` is the old key as it now is.
public struct APIKeyCreated: Codable, Sendable {
    public var key: String
    public var info: APIKeyInfo
    public var replaces: APIKeyInfo?

    public init(key: String, info: APIKeyInfo, replaces: APIKeyInfo? = nil) {
        self.key = key
        self.info = info
        self.replaces = replaces
    }
}
