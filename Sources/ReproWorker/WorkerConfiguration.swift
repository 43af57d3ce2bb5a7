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
    /// How jobs are isolated from this machine.
    public var isolation: IsolationLevel
    /// Whether tasks of studies that ask for the network (`run.network: true`) may run here.
    public var allowNetwork: Bool
    /// Whether two jobs may share one GPU.
    public var shareGPUs: Bool
    /// `RLIMIT_NPROC` of sandboxed jobs: processes and threads of the job user, a fork bomb's ceiling.
    public var processLimit: Int
    /// Whether `python` was chosen by the volunteer (else a sandbox may fall back to the system's).
    public var pythonIsExplicit: Bool
    /// Coordinator public keys the volunteer pinned (`--coordinator-key`): a base64 key or a file of keys.
    /// Nil: the keys pinned at an earlier start, or the coordinator's on the first start (trust on first use).
    public var coordinatorKey: String?
    /// Whether finished results travel with the next lease request (`POST /v1/leases/cycle`, one round
    /// trip and one commit per cycle); off: results and leases go separately (`--separate-results`).
    public var cycle = true

    /// Creates a configuration.
    public init(
        coordinatorURL: String, token: String, slots: Int = 1, workDirectory: URL, cacheDirectory: URL? = nil,
        name: String? = nil, leaseWait: Double = 20, shutdownGracePeriod: Duration = .seconds(30),
        python: String? = nil, memoryBytes: Int64 = 0, gpus: Int = 0, isolation: IsolationLevel = .strict,
        allowNetwork: Bool = false, shareGPUs: Bool = false, processLimit: Int = 4096, coordinatorKey: String? = nil
    ) {
        self.coordinatorKey = coordinatorKey
        self.coordinatorURL = coordinatorURL
        self.token = token
        self.slots = slots
        self.workDirectory = workDirectory
        self.cacheDirectory = cacheDirectory ?? workDirectory.appendingPathComponent("cache")
        self.name = name ?? ProcessInfo.processInfo.hostName
        self.leaseWait = leaseWait
        self.shutdownGracePeriod = shutdownGracePeriod
        self.python = python ?? "python3"
        self.pythonIsExplicit = python != nil
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.isolation = isolation
        self.allowNetwork = allowNetwork
        self.shareGPUs = shareGPUs
        self.processLimit = processLimit
    }
}
