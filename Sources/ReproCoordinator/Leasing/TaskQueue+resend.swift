import Foundation
import Logging
import PostgresNIO
import ReproCore

extension TaskQueue {
    /// The most lease ids a request may name as held: a worker's slots plus its spool, with room to spare.
    public static let maxHeld = LeaseRequest.maxHeld

    /// Up to `max` of `worker`'s leases that it does not name in `held`, sent again with their expiry
    /// renewed (``ResendStatement``, decision 0016).
    func resend(worker: UUID, held: [UUID], max: Int) async throws -> [TaskLease] {
        guard max > 0 else { return [] }
        return try await client.withTransaction { connection in
            try await self.resend(worker: worker, held: held, max: max, on: connection)
        }
    }

    /// ``resend(worker:held:max:)`` on a connection, inside its caller's transaction (the worker's cycle).
    func resend(worker: UUID, held: [UUID], max: Int, on connection: PostgresConnection) async throws -> [TaskLease] {
        guard max > 0 else { return [] }
        try await connection.query(ResendStatement.fence(worker), logger: logger)
        let statement = ResendStatement(worker: worker, held: held, max: max, ttlSeconds: policy.ttlSeconds)
        let leases = try await leases(from: try await statement.run(on: connection, prepared: policy.preparedStatements, logger: logger))
        log(resent: leases, worker: worker)
        return leases
    }

    private func log(resent leases: [TaskLease], worker: UUID) {
        guard !leases.isEmpty else { return }
        logger.notice(
            "leases the worker does not hold sent again (their answer was lost)",
            metadata: ["repro.worker.id": "\(worker)", "repro.tasks": "\(leases.map(\.taskID))"])
    }
}
