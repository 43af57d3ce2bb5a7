import Foundation
import PostgresNIO

/// After a lease statement that leased nothing: is a task queued and due that fits the worker all the same?
/// The lease statement passes over rows other transactions hold locked (`FOR UPDATE SKIP LOCKED`); this
/// reads them without locking, as they were before those transactions commit. Yes means the look found
/// nothing only because of those locks, typically another transaction that held queued rows locked and
/// left them queued without a notification (a lease statement used to lock twice its batch for the replica
/// rule and release half), so the worker looks again shortly instead of sleeping out its wait (the Slurm
/// step's 16 s with a task queued and a worker idle).
///
/// Run only after an empty look, unnamed: idle workers' empty looks are remembered (``EmptyLooks``), so it
/// is not on the hot path.
struct LockedLookStatement: QueueStatement {
    typealias Row = PostgresRow

    static let name = "repro_locked_look_v1"
    static let sql = "SELECT EXISTS (SELECT FROM tasks t WHERE \(LeaseStatement.fits))"

    let worker: UUID
    let memoryBytes: Int64
    let gpus: Int
    let allowNetwork: Bool

    func makeBindings() throws -> PostgresBindings {
        LeaseStatement.fitsBindings(
            worker: worker, memoryBytes: memoryBytes, gpus: gpus, allowNetwork: allowNetwork, capacity: 4)
    }
}
