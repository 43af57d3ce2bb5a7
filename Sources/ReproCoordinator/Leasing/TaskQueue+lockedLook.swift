import Foundation
import PostgresNIO

extension TaskQueue {
    /// Whether a task that fits the worker is queued and due although its lease statement just leased
    /// nothing: then other transactions held those rows locked (``LockedLookStatement``).
    func fitsPastLocks(worker: UUID, memoryBytes: Int64, gpus: Int, allowNetwork: Bool) async throws -> Bool {
        let statement = LockedLookStatement(
            worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork)
        let rows = try await client.query(try statement.query(), logger: logger)
        for try await fits in rows.decode(Bool.self) { return fits }
        return false
    }
}
