import Foundation

/// What a quarantine covers: one worker, or every worker of a volunteer account (present and future).
enum QuarantineTarget: Sendable, Equatable {
    case worker(UUID)
    case account(UUID)

    var scope: String {
        switch self {
        case .worker: "worker"
        case .account: "account"
        }
    }

    var workerID: UUID? {
        if case .worker(let id) = self { return id }
        return nil
    }

    var accountID: UUID? {
        if case .account(let id) = self { return id }
        return nil
    }
}
