import Foundation

/// How a `repro-worker` process runs.
public struct WorkerConfiguration: Sendable {
    /// Coordinator base URL.
    public var coordinatorURL: String
    /// A volunteer key (used once, to register) or a worker token.
    public var token: String
    /// Jobs run at once.
    public var slots: Int
    /// State of this worker: its saved token, the result spool, job folders.
    public var workDirectory: URL
    /// Downloaded bundles and virtualenvs; several workers on one machine may share it.
    public var cacheDirectory: URL
    /// A name shown to the coordinator.
    public var name: String
    /// Long-poll wait of a lease request, seconds.
    public var leaseWait: Double
    /// After SIGTERM, how long running jobs may finish before they are killed and reported interrupted.
    public var shutdownGracePeriod: Duration
    /// The Python used to build virtualenvs.
    public var python: String
    /// Memory the worker offers; tasks needing more are not leased to it (0 = what the machine has).
    public var memoryBytes: Int64
    /// GPUs the worker offers.
    public var gpus: Int

    /// Creates a configuration.
    public init(
        coordinatorURL: String, token: String, slots: Int = 1, workDirectory: URL, cacheDirectory: URL? = nil,
        name: String? = nil, leaseWait: Double = 20, shutdownGracePeriod: Duration = .seconds(30),
        python: String = "python3", memoryBytes: Int64 = 0, gpus: Int = 0
    ) {
        self.coordinatorURL = coordinatorURL
        self.token = token
        self.slots = slots
        self.workDirectory = workDirectory
        self.cacheDirectory = cacheDirectory ?? workDirectory.appendingPathComponent("cache")
        self.name = name ?? ProcessInfo.processInfo.hostName
        self.leaseWait = leaseWait
        self.shutdownGracePeriod = shutdownGracePeriod
        self.python = python
        self.memoryBytes = memoryBytes
        self.gpus = gpus
    }
}
