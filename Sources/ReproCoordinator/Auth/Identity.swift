import Foundation
import ReproCore

/// The authenticated caller of a request.
public struct Identity: Sendable, Equatable {
    /// The account the key belongs to.
    public var accountID: UUID
    /// Roles of that account.
    public var roles: Set<Role>
    /// Set when the account is a registered worker process.
    public var workerID: UUID?
    /// Memory the worker registered with; bounds the tasks it is handed.
    public var workerMemoryBytes: Int64
    /// GPUs the worker registered with.
    public var workerGPUs: Int

    /// Creates an identity.
    public init(accountID: UUID, roles: Set<Role>, workerID: UUID?, workerMemoryBytes: Int64 = 0, workerGPUs: Int = 0) {
        self.accountID = accountID
        self.roles = roles
        self.workerID = workerID
        self.workerMemoryBytes = workerMemoryBytes
        self.workerGPUs = workerGPUs
    }

    /// True for admins; they may see and cancel any object.
    public var isAdmin: Bool { roles.contains(.admin) }
}
