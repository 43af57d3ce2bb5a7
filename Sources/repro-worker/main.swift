import ArgumentParser
import Dispatch
import Foundation
import Logging
import Synchronization
import ReproCore
import ReproMetrics
import ReproWorker

/// `repro-worker`: a volunteer worker process.
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro-worker",
        abstract: "Run ReproGrid replication tasks on this machine.",
        discussion: """
            Leases tasks from the coordinator, retrains the model for each (seed, dataset), and reports the metrics.
            The first start registers with a volunteer key and saves the worker's own token in the work directory.
            SIGTERM/SIGINT: stop leasing, let running jobs finish for the grace period, then stop them; a second
            signal stops at once. Results are spooled on disk until the coordinator acknowledges them.
            """,
        version: "0.1.0")

    @Option(help: "Coordinator URL (default: $REPRO_COORDINATOR, else http://127.0.0.1:8080).")
    var coordinator: String?

    @Option(help: "Volunteer key for the first registration, or a worker token. Visible to every user of this machine in `ps`: prefer $REPRO_TOKEN or --token-file.")
    var token: String?

    @Option(help: "File holding the volunteer key (or worker token) on its first line.")
    var tokenFile: String?

    @Option(help: "Jobs to run at once.") var slots = 1

    @Option(help: "Work directory: saved token, result spool, job folders (default: /var/lib/reprogrid/worker as root, else ~/.local/share/reprogrid/worker).")
    var workDir: String?

    @Option(help: "Cache of code bundles and Python environments (default: WORK_DIR/cache); workers may share it.")
    var cacheDir: String?

    @Option(help: "Name shown to the coordinator (default: the host name).") var name: String?

    @Option(help: "Seconds a lease request waits for work (1–30).") var leaseWait: Double = 20

    @Option(help: "Seconds running jobs may finish after SIGTERM.") var gracePeriod: Int = 30

    @Option(help: "Python used to build virtual environments (default: python3 on PATH; with strict isolation, /usr/bin/python3 when that one lives where jobs cannot reach).")
    var python: String?

    @Option(help: "Job isolation: strict (each job in a bubblewrap sandbox: no network, nothing of this machine but its own folder) or none (your own code only).")
    var isolation: IsolationLevel = .strict

    @Flag(help: "Run tasks of studies that ask for the network (run.network: true); off by default.")
    var allowNetwork = false

    @Option(help: "The coordinator's public signing key (base64, as GET /v1/signing-keys shows it) or a file of such keys; tasks signed by anything else are refused. Default: the keys pinned at the first start (trust on first use), saved in WORK_DIR/private/coordinator-keys.json.")
    var coordinatorKey: String?

    @Flag(help: "Let two jobs share one GPU (by default each job gets its own).")
    var shareGPUs = false

    @Flag(help: "Send results and lease requests separately (POST /v1/results, POST /v1/leases) instead of together in one request; for coordinators older than POST /v1/leases/cycle.")
    var separateResults = false

    @Flag(help: "Run the hostile isolation probe locally under --isolation, print what a job could reach, and exit.")
    var checkIsolation = false

    @Option(name: .customLong("memory-mib"), help: "Memory offered to tasks, in MiB (default: the machine's).") var memoryMiB: Int64 = 0

    @Option(help: "Serve Prometheus metrics (GET /metrics) on this port of 127.0.0.1 (default: off).")
    var metricsPort: Int?
    @Option(help: "Address of the metrics server.") var metricsHost = "127.0.0.1"
    @Option(help: "Log format: text or json.") var logFormat: LogFormat = .text

    @Option(help: "Log level.") var logLevel: Logger.Level = .info

    func validate() throws {
        guard (1...256).contains(slots) else { throw ValidationError("--slots must be between 1 and 256.") }
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535, got \(metricsPort).")
        }
        guard (1...30).contains(leaseWait) else { throw ValidationError("--lease-wait must be between 1 and 30 seconds.") }
    }

    func run() async throws {
        LogSetup.bootstrap(format: logFormat, level: logLevel)
        let logger = Logger(label: "repro.worker")
        let environment = ProcessInfo.processInfo.environment
        let defaultWork = getuid() == 0
            ? "/var/lib/reprogrid/worker"
            : FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/reprogrid/worker").path
        let work = URL(fileURLWithPath: workDir ?? defaultWork)
        if checkIsolation {
            let report = try await IsolationProbe.run(
                isolation: isolation, workDirectory: work.appendingPathComponent("isolation-check"), python: python,
                logger: logger)
            print(report.table)
            if !report.passed { throw ExitCode(1) }
            return
        }
        let secret: CommandSecret?
        do {
            secret = try CommandSecret.resolve(
                commandLine: token, file: tokenFile, environment: environment,
                names: .init(option: "--token", fileOption: "--token-file", environmentVariable: "REPRO_TOKEN", noun: "the key"))
        } catch {
            throw ValidationError(error.description)
        }
        for warning in secret?.warnings ?? [] { logger.warning("\(warning)") }
        guard let token = secret?.value else {
            throw ValidationError("No token: set REPRO_TOKEN or pass --token-file with a volunteer key (an admin creates one with `repro-coordinator keys create --role volunteer`).")
        }
        var configuration = WorkerConfiguration(
            coordinatorURL: coordinator ?? environment["REPRO_COORDINATOR"] ?? "http://127.0.0.1:8080", token: token,
            slots: slots, workDirectory: work, cacheDirectory: cacheDir.map { URL(fileURLWithPath: $0) }, name: name,
            leaseWait: leaseWait, shutdownGracePeriod: .seconds(gracePeriod), python: python,
            memoryBytes: memoryMiB * 1024 * 1024, isolation: isolation, allowNetwork: allowNetwork, shareGPUs: shareGPUs,
            coordinatorKey: coordinatorKey)
        configuration.cycle = !separateResults
        let showsLines = logFormat == .text
        let worker = try Worker(configuration: configuration, logger: logger) { line in
            // The terminal display: what the worker is doing, one line per change.
            guard showsLines else { return }
            let time = Date().formatted(.dateTime.hour().minute().second())
            FileHandle.standardOutput.write(Data("[\(time)] \(line)\n".utf8))
        }
        let signals = SignalWatcher { await worker.shutdown() }
        defer { signals.cancel() }
        // Ends with the worker: the metrics of a stopped worker would say it still runs.
        let metricsHost = self.metricsHost
        let metrics = metricsPort.map { port in
            Task {
                try await MetricsServer.application(host: metricsHost, port: port, logger: logger).run()
            }
        }
        defer { metrics?.cancel() }
        try await worker.run()
    }
}

/// First SIGTERM/SIGINT begins a graceful shutdown; a second one exits at once.
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    init(onFirst: @escaping @Sendable () async -> Void) {
        let count = Counter()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if count.increment() == 1 {
                    Task { await onFirst() }
                } else {
                    FileHandle.standardError.write(Data("second signal: stopping at once\n".utf8))
                    exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() { sources.forEach { $0.cancel() } }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    }
}

extension LogFormat: ExpressibleByArgument {}
extension IsolationLevel: ExpressibleByArgument {}
// An invalid --log-level is a usage error listing the levels, not a silent `info`.
extension Logger.Level: @retroactive ExpressibleByArgument {}
