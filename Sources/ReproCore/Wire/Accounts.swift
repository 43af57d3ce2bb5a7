import Foundation

/// Body of `POST /v1/accounts`: an admin creates an account holding some roles, with its first API key.
public struct AccountCreateRequest: Codable, Sendable {
    /// A name for people (`alice`, `lab-gpu-pool`).
    public var name: String
    /// Roles of the account; `worker` cannot be given here (workers get it at registration).
    public var roles: [Role]

    /// Creates a request.
    public init(name: String, roles: [Role]) {
        self.name = name
        self.roles = roles
    }
}

/// Answer to account creation: the secret key appears here once and is stored only as a hash.
public struct AccountCreated: Codable, Sendable {
    /// The account.
    public var accountID: UUID
    /// The API key (`rg_…`); shown once.
    public var key: String
    /// Roles granted.
    public var roles: [Role]

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case key, roles
    }

    /// Creates the answer.
    public init(accountID: UUID, key: String, roles: [Role]) {
        self.accountID = accountID
        self.key = key
        self.roles = roles
    }
}
