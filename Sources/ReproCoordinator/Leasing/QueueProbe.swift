import Logging
import PostgresNIO
import ServiceLifecycle

/// The safety net under ``EmptyLooks``: every `interval`, while some worker's empty look is on record,
/// one query asks whether any task is queued and due; if one is, the recorded looks are made stale,
/// so those workers look again at their next poll. A remembered empty look thus outlives a probe only
/// when the queue held nothing to lease for anyone.
///
/// Notifications announce every change that makes a task leasable except these, which only this catches
/// (each leaves a due task in the queue, which is what the probe sees):
/// - a replica leased elsewhere frees its siblings for the worker that held it before (the replica
///   rule of the lease statement looks at the siblings' `worker_id`, whatever their state);
/// - a lease statement found nothing because other transactions had the rows locked (`SKIP LOCKED`:
///   another lease statement that leased fewer than it locked, a result batch that locked a queued
///   task and refused its result), when the looker's own check (``LockedLookStatement``, which makes it
///   look again shortly) is turned off;
/// - a backed-off task became due and no reaper noticed it in its window.
/// It does not wake waiting requests: they look again when their wait ends, spread over time, rather
/// than all at once.
///
/// What it costs: one query per `interval` per coordinator while idle workers are on record (none
/// otherwise). While a due task waits that idle workers cannot take (it needs a GPU none of them has, or
/// the replica rule keeps it from them), each idle worker looks once per `interval`: with the default
/// 20 s, the rate of one statement per 20 s long-poll that every idle worker had before (decision 0009).
public struct QueueProbe: Service {
    let database: DatabaseClient
    let looks: EmptyLooks
    let interval: Duration
    let gate: Gate
    let logger: Logger

    /// Creates the probe; it starts once `gate` opens (schema up to date).
    public init(database: DatabaseClient, looks: EmptyLooks, interval: Duration, gate: Gate, logger: Logger) {
        self.database = database
        self.looks = looks
        self.interval = interval
        self.gate = gate
        self.logger = logger
    }

    /// Probes until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate.wait()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await probeOnce()
            }
        }
    }

    /// One probe: makes the recorded looks stale when a task is queued and due, or when it cannot
    /// tell. Skips the query while no look is on record.
    func probeOnce() async {
        guard looks.count > 0 else { return }
        do {
            if try await anyTaskDue() { looks.invalidate() }
        } catch {
            // Cannot vouch for the recorded looks: they are looked at again.
            looks.invalidate()
            logger.warning("queue probe failed; idle workers look again", metadata: ["repro.error": "\(error)"])
        }
    }

    func anyTaskDue() async throws -> Bool {
        let rows = try await database.query(
            "SELECT EXISTS (SELECT 1 FROM tasks WHERE state = 'queued' AND not_before <= now())", logger: logger)
        for try await due in rows.decode(Bool.self) { return due }
        return false
    }
}
