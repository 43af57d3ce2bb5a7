import Foundation
import Logging
import PostgresNIO
import ReproCore

extension TaskQueue {
    /// A worker's cycle (issue 16): records its finished results and leases up to `max` new tasks in one
    /// transaction, so the cycle costs one round trip from the worker and one commit.
    ///
    /// The results go first, with the locks ``record(results:worker:)`` takes in its order (tasks in id
    /// order, then studies near their end); the lease statement comes after and locks only queued rows
    /// with SKIP LOCKED, which never waits, so appending it keeps the order of decision 0002. Each part is
    /// fenced as on its own route: a result counts only for the lease it names, and a task freed by a
    /// result of this very batch (a failed attempt with a backoff) is not due yet, so the worker cannot
    /// lease its own retry here. When the worker names the leases it `held`, its others are sent again
    /// first (``ResendStatement``), in the same transaction.
    func cycle(
        results: [TaskResult], worker: UUID, max: Int, memoryBytes: Int64, gpus: Int, allowNetwork: Bool,
        held: [UUID]? = nil
    ) async throws -> (receipts: [ResultReceipt], leases: [TaskLease]) {
        let outcome = try await client.withTransaction(logger: logger) {
            connection -> (receipts: [ResultReceipt], leases: [TaskLease]) in
            let receipts = try await record(results: results, worker: worker, on: connection)
            guard max > 0 else { return (receipts, []) }
            // The resend first waits on the worker's lease fence (a lease of this worker still running on the
            // server), then locks only this worker's leased rows, in id order with SKIP LOCKED, like the lease.
            var resent: [TaskLease] = []
            if let held { resent = try await resend(worker: worker, held: held, max: max, on: connection) }
            guard resent.count < max else { return (receipts, resent) }
            let leases = try await lease(
                worker: worker, max: max - resent.count, memoryBytes: memoryBytes, gpus: gpus,
                allowNetwork: allowNetwork, on: connection)
            return (receipts, resent + leases)
        }
        CoordinatorMetrics.resultsRecorded(outcome.receipts)
        log(outcome.receipts)
        return outcome
    }
}
