/// Timing rules of the lease lifecycle. Defaults suit volunteers on real networks; tests shorten them.
public struct LeasePolicy: Sendable {
    /// How long a lease lasts without a heartbeat.
    public var ttlSeconds: Double
    /// How often workers are told to heartbeat (a third of the TTL leaves room for two lost beats).
    public var heartbeatIntervalSeconds: Double { ttlSeconds / 3 }
    /// Backoff before the second attempt; doubles per attempt.
    public var backoffBaseSeconds: Double
    /// Longest backoff.
    public var backoffCapSeconds: Double
    /// How often the reaper looks for expired leases.
    public var reaperIntervalSeconds: Double
    /// Longest long-poll a lease request may ask for.
    public var maxWaitSeconds: Double = 30
    /// Most tasks one lease request may take.
    public var maxBatch: Int = 50
    /// How often ``QueueProbe`` checks that idle workers' empty looks still hold (their safety net).
    public var queueProbeSeconds: Double = 20
    /// Whether a long-poll whose lease statement found tasks for the worker only behind other transactions'
    /// row locks looks again shortly (``LockedLookStatement``) instead of waiting for a signal that no one
    /// sends; off only to show what it prevents.
    public var retryLockedLooks = true
    /// Largest lease answer, in bytes (issue 11, defect 9): leases that would take the answer past it
    /// are handed back at once (the first lease is always sent). A study's manifest travels once per
    /// answer and is bounded by the spec size limit, so this binds only when one batch spans many
    /// studies with long commands.
    public var maxResponseBytes: Int = 1 << 20
    /// Whether the lease, heartbeat and result statements run as server-side prepared statements
    /// (``LeaseStatement``); off only to measure what they save.
    public var preparedStatements = true
    /// Open tasks left, as a result transaction sees them, at or under which it folds its study's closures
    /// into the study's row itself (decision 0017). Over it, the transaction appends its closures and takes
    /// no lock on the study's row, so the study's results do not wait for each other; the reaper folds them.
    /// Under it, near a study's end, results fold (and wait for each other, as they all did before) so that
    /// the one closing the last task completes the study before its answer is sent. -1: results never fold.
    public var closureFoldThreshold = 500

    /// Creates a policy.
    public init(
        ttlSeconds: Double = 60, backoffBaseSeconds: Double = 5, backoffCapSeconds: Double = 300,
        reaperIntervalSeconds: Double = 5
    ) {
        self.ttlSeconds = ttlSeconds
        self.backoffBaseSeconds = backoffBaseSeconds
        self.backoffCapSeconds = backoffCapSeconds
        self.reaperIntervalSeconds = reaperIntervalSeconds
    }

    /// Delay before the next attempt after `attempts` failed ones: exponential with ±25 % jitter, so
    /// tasks that failed together (a bad worker) do not all come back at the same instant.
    public func backoff(afterAttempts attempts: Int) -> Double {
        let exponent = Double(max(0, min(attempts - 1, 20)))
        let base = min(backoffCapSeconds, backoffBaseSeconds * Double(1 << Int(exponent)))
        return base * Double.random(in: 0.75...1.25)
    }
}
