import AsyncHTTPClient
import Foundation
import Logging
import ReproClient
import ReproCore

/// The volunteer worker: registers once, leases tasks with long-polling, runs up to `slots` jobs at
/// once, heartbeats all of them in one request, and delivers results through a disk spool so that
/// none is lost to a crash or an outage.
public actor Worker {
    let configuration: WorkerConfiguration
    let logger: Logger
    let spool: ResultSpool
    var client: CoordinatorClient
    var running: [UUID: (lease: TaskLease, handle: TaskExecutor.Handle, started: ContinuousClock.Instant)] = [:]
    /// Finished tasks whose results sit in the spool, by lease id: heartbeated until the coordinator
    /// acknowledges them (for at most ``undeliveredHeartbeatLimit``), so that an outage longer than
    /// the lease TTL does not hand a finished task to another worker and make its result stale.
    var undelivered: [UUID: (taskID: Int64, since: ContinuousClock.Instant)] = [:]
    /// How long a result waiting in the spool keeps its lease alive.
    static let undeliveredHeartbeatLimit: Duration = .seconds(3600)

    var heartbeatInterval: Double = 20
    var stopping = false
    var backPressureShown = false
    var leaseRequest: Task<CycleResponse, any Error>?
    /// An answer to this worker may have been lost: before its first request (a crash may have cut one
    /// off) and after a request that failed. The next request then names the leases held, and the
    /// coordinator sends again those it granted that this worker does not know of (decision 0016).
    var leasesInDoubt = true
    /// The lease loop waits for a slot: a result finishing now travels with its next lease request
    /// (``WorkerConfiguration/cycle``), so the spool loop is not woken for it.
    var waitingForSlot = false
    /// The coordinator refused a cycle outright (a 4xx): results go through the spool loop, which sets a
    /// refused one aside, until the spool is empty again.
    var cycleRefused = false
    let spoolSignal: AsyncStream<Void>.Continuation
    let spoolWakeups: AsyncStream<Void>
    /// Called with a line describing each change (the terminal display).
    let display: @Sendable (String) -> Void

    /// Creates a worker; nothing happens until ``run()``.
    public init(configuration: WorkerConfiguration, logger: Logger, display: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.configuration = configuration
        self.logger = logger
        self.display = display
        try FileManager.default.createDirectory(at: configuration.workDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: configuration.cacheDirectory, withIntermediateDirectories: true)
        self.spool = try ResultSpool(directory: configuration.workDirectory.appendingPathComponent("spool"))
        self.client = CoordinatorClient(baseURL: configuration.coordinatorURL, key: configuration.token)
        (self.spoolWakeups, self.spoolSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs until ``shutdown()`` (SIGTERM) and returns once running jobs ended and results were sent
    /// or spooled.
    public func run() async throws {
        try WorkerCredentials.preparePrivateDirectory(in: configuration.workDirectory)
        let credentials = try await registerIfNeeded()
        client = CoordinatorClient(baseURL: configuration.coordinatorURL, key: credentials.token)
        var logger = logger
        logger[metadataKey: "repro.worker.id"] = "\(credentials.workerID)"
        display("worker \(credentials.workerID.uuidString.lowercased().prefix(8)) connected to \(configuration.coordinatorURL) with \(configuration.slots) slot(s)")
        for result in spool.pending() { undelivered[result.leaseID] = (result.taskID, .now) }
        WorkerMetrics.registerAll()
        WorkerMetrics.slots(configured: configuration.slots, busy: 0)
        WorkerMetrics.spoolDepth(undelivered.count)
        let pending = undelivered.count
        if pending > 0 {
            // Before leasing anything: a result from before a crash is accepted only while its task was
            // not leased again, and this worker leasing it again would make the result stale itself.
            display("sending \(pending) result(s) left in the spool by an earlier run")
            await flushSpool(deadline: .now + .seconds(10))
            spoolSignal.yield()
        }
        var executor = try await makeExecutor(logger: logger)
        executor.pins = try await pinCoordinatorKeys(logger: logger)
        executor.display = display
        await withTaskGroup(of: Void.self) { background in
            background.addTask { await self.heartbeatLoop() }
            background.addTask { await self.sendSpoolLoop() }
            await self.leaseLoop(executor: executor)
            // Every job ended; deliver what is left, then stop the background loops.
            await self.flushSpool(deadline: .now + .seconds(15))
            background.cancelAll()
        }
        display("worker stopped")
    }

    /// Begins a graceful shutdown: lease nothing more, let running jobs finish for the grace period,
    /// then stop them and report them interrupted (their tasks go back to the queue).
    public func shutdown() {
        guard !stopping else { return }
        stopping = true
        leaseRequest?.cancel()
        let grace = configuration.shutdownGracePeriod
        display("shutting down: \(running.count) job(s) may finish within \(grace); send the signal again to stop at once")
        Task {
            try? await Task.sleep(for: grace)
            self.interruptAll()
        }
    }

    /// Sets up job isolation (refusing to start in strict mode without a working sandbox), the
    /// Python environments and the GPU slots, and says what jobs may and may not do here.
    func makeExecutor(logger: Logger) async throws -> TaskExecutor {
        let setup = try await IsolationSetup.prepare(configuration: configuration, logger: logger)
        display(setup.summary)
        var configuration = configuration
        configuration.python = setup.python
        let gpuCount = max(configuration.gpus, await EnvironmentFingerprint.collect(python: nil, logger: logger).gpus.count)
        return TaskExecutor(
            client: client, configuration: configuration,
            cache: try ContentCache(directory: configuration.cacheDirectory.appendingPathComponent("bundles")),
            environments: VirtualEnvBuilder(sandbox: setup.sandbox, logger: logger), fingerprints: FingerprintCache(),
            isolation: configuration.isolation, sandbox: setup.sandbox, pythonPrefix: setup.pythonPrefix,
            cgroups: setup.cgroups, gpus: GPUAllocator(count: gpuCount, sharing: configuration.shareGPUs), logger: logger)
    }

    func interruptAll() {
        for job in running.values { job.handle.stop(.interrupted) }
    }

    // MARK: Coordinator keys

    /// Pins the coordinator's signing keys before the first lease (decision 0007): the volunteer's
    /// `--coordinator-key`, else the keys saved at an earlier start, else the coordinator's own (trust on
    /// first use). Refuses to start when the coordinator presents no key this worker trusts.
    func pinCoordinatorKeys(logger: Logger) async throws -> PinnedKeys {
        let coordinator = configuration.coordinatorURL
        let work = configuration.workDirectory
        let base = try configuration.coordinatorKey.map(CoordinatorKeyPin.parse)
            ?? CoordinatorKeyPin.load(from: work, coordinator: coordinator)?.keys
        let presented = try await fetchSigningKeys(logger: logger)
        let established: (pin: CoordinatorKeyPin, how: CoordinatorKeyPin.Establishment)
        do {
            established = try CoordinatorKeyPin.establish(coordinator: coordinator, presented: presented, base: base)
        } catch {
            logger.critical("coordinator signing key refused", metadata: ["repro.error": "\(error)"])
            throw error
        }
        try established.pin.save(in: work)
        switch established.how {
        case .trustedOnFirstUse(let ids):
            display("pinned the coordinator's signing key(s) \(ids.joined(separator: ", ")) on first use (saved in \(CoordinatorKeyPin.file(in: work).path))")
        case .confirmed(let added):
            let pinned = established.pin.keys.map(\.keyID).joined(separator: ", ")
            display("coordinator signing key(s) pinned: \(pinned)" + (added.isEmpty ? "" : " (newly endorsed: \(added.joined(separator: ", ")))"))
        }
        return PinnedKeys(established.pin, workDirectory: work)
    }

    /// The coordinator's keyring, retried like registration while the coordinator is unreachable.
    func fetchSigningKeys(logger: Logger) async throws -> SigningKeyring {
        var delay = 1.0
        while true {
            do {
                return try await client.signingKeys()
            } catch let error as CoordinatorClientError where error.isRetryable && !stopping {
                logger.warning("fetching the coordinator's signing keys failed; retrying", metadata: ["repro.error": "\(error)"])
                try await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 30)
            }
        }
    }

    // MARK: Registration

    func registerIfNeeded() async throws -> WorkerCredentials {
        if let saved = WorkerCredentials.load(from: configuration.workDirectory, coordinator: configuration.coordinatorURL) {
            return saved
        }
        let fingerprint = await EnvironmentFingerprint.collect(python: nil, logger: logger)
        let memory = configuration.memoryBytes > 0 ? configuration.memoryBytes : Int64(fingerprint.memoryBytes)
        let registration = WorkerRegistration(
            name: configuration.name, slots: configuration.slots, cpus: fingerprint.cpuCores, memoryBytes: memory,
            gpus: max(configuration.gpus, fingerprint.gpus.count), hardwareClass: fingerprint.hardwareClass)
        var delay = 1.0
        while true {
            do {
                let registered = try await client.registerWorker(registration)
                let credentials = WorkerCredentials(
                    coordinator: configuration.coordinatorURL, workerID: registered.workerID, token: registered.token)
                try credentials.save(in: configuration.workDirectory)
                logger.info("worker registered", metadata: ["repro.worker.id": "\(registered.workerID)"])
                return credentials
            } catch let error as CoordinatorClientError where error.isRetryable && !stopping {
                logger.warning("registration failed; retrying", metadata: ["repro.error": "\(error)"])
                try await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 30)
            } catch let error as CoordinatorClientError {
                if error.status == 401 || error.status == 403 {
                    throw WorkerError("the coordinator refused the token: \(error). Register with a volunteer key (`repro-coordinator keys create --role volunteer`).")
                }
                throw error
            }
        }
    }

    // MARK: Leasing

    func leaseLoop(executor: TaskExecutor) async {
        await withTaskGroup(of: Void.self) { jobs in
            var failures = 0
            while !stopping {
                let free = configuration.slots - running.count
                if free <= 0 {
                    waitingForSlot = configuration.cycle
                    await jobs.next()
                    waitingForSlot = false
                    continue
                }
                if cycleRefused && undelivered.isEmpty { cycleRefused = false }
                // Results waiting in the spool travel with the lease request: one round trip, one
                // transaction, and they are recorded before anything is leased.
                let carried = configuration.cycle && !cycleRefused ? Array(spool.pending().prefix(100)) : []
                if carried.isEmpty, !undelivered.isEmpty, !(await waitForDelivery(upTo: .seconds(2))) {
                    // Results first: leasing while they cannot be delivered piles up work whose leases
                    // expire, and could even lease this worker's own finished task again, making its
                    // result stale. The spool is the back-pressure signal.
                    if !backPressureShown {
                        display("\(undelivered.count) result(s) not yet delivered: leasing paused until the coordinator takes them")
                        backPressureShown = true
                    }
                    continue
                }
                backPressureShown = false
                let wait = configuration.leaseWait
                // Over the limit the list is left out (the coordinator would refuse the request, and this loop
                // would retry it for ever): lost leases then wait for their TTL, as before decision 0016.
                let holding = Array(running.keys) + Array(undelivered.keys)
                let held = leasesInDoubt && holding.count <= LeaseRequest.maxHeld ? holding : nil
                let request = Task { [client, allowNetwork = configuration.allowNetwork, cycle = configuration.cycle] in
                    guard cycle else {
                        return CycleResponse(
                            results: [],
                            lease: try await client.lease(max: free, wait: wait, allowNetwork: allowNetwork, held: held))
                    }
                    return try await client.cycle(
                        results: carried, max: free, wait: wait, allowNetwork: allowNetwork, held: held)
                }
                leaseRequest = request
                let response: LeaseResponse
                do {
                    let answer = try await request.value
                    acknowledge(answer.results)
                    response = answer.lease
                    failures = 0
                    leasesInDoubt = false
                    WorkerMetrics.contacted()
                } catch {
                    leaseRequest = nil
                    // The coordinator may have leased and committed before the answer failed.
                    leasesInDoubt = true
                    if !carried.isEmpty {
                        // The spool loop delivers them on its own (and sets aside one the coordinator refuses).
                        if let error = error as? CoordinatorClientError, !error.isRetryable { cycleRefused = true }
                        spoolSignal.yield()
                    }
                    if stopping { break }
                    failures += 1
                    let delay = min(30.0, pow(2.0, Double(min(failures, 5)))) * Double.random(in: 0.5...1.0)
                    logger.warning(
                        "lease request failed; retrying",
                        metadata: ["repro.error": "\(error)", "repro.retry.seconds": "\(String(format: "%.1f", delay))"])
                    if failures == 1 { display("coordinator unreachable; retrying (running jobs continue)") }
                    try? await Task.sleep(for: .seconds(delay))
                    continue
                }
                leaseRequest = nil
                heartbeatInterval = response.heartbeatIntervalSeconds
                for lease in response.leases {
                    let handle = TaskExecutor.Handle()
                    running[lease.leaseID] = (lease, handle, .now)
                    WorkerMetrics.slots(configured: configuration.slots, busy: running.count)
                    display("task \(lease.taskID): \(lease.dataset) seed \(lease.seed) (study \(lease.studyID.uuidString.lowercased().prefix(8)), attempt \(lease.attempt))")
                    jobs.addTask {
                        let result = await executor.execute(lease, handle: handle)
                        await self.finished(lease, result: result)
                    }
                }
                if stopping, !response.leases.isEmpty {
                    // Leased while the shutdown began: these jobs will be interrupted with the rest.
                    interruptAll()
                }
            }
            await jobs.waitForAll()
        }
    }

    /// Waits until every spooled result was acknowledged, up to `limit`; true when none is left.
    func waitForDelivery(upTo limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !undelivered.isEmpty && ContinuousClock.now < deadline && !stopping {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return undelivered.isEmpty
    }

    func finished(_ lease: TaskLease, result: TaskResult) {
        let started = running.removeValue(forKey: lease.leaseID)?.started ?? .now
        let elapsed = ContinuousClock.now - started
        WorkerMetrics.jobFinished(outcome: result.outcome, duration: elapsed)
        WorkerMetrics.slots(configured: configuration.slots, busy: running.count)
        let summary = result.outcome == .succeeded
            ? result.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4f", $0.value))" }.joined(separator: " ")
            : (result.error ?? result.outcome.rawValue)
        display("task \(lease.taskID): \(result.outcome.rawValue) in \(String(format: "%.1f", elapsed.inSeconds)) s — \(summary)")
        do {
            try spool.store(result)
            undelivered[result.leaseID] = (result.taskID, .now)
            WorkerMetrics.spoolDepth(spool.pending().count)
            // The lease loop is about to ask for the freed slot and takes this result along.
            if waitingForSlot && !stopping { return }
        } catch {
            logger.error("could not write the result to the spool; sending it directly", metadata: ["repro.error": "\(error)"])
            let client = self.client
            Task { _ = try? await client.submitResults([result]) }
            return
        }
        spoolSignal.yield()
    }

    // MARK: Heartbeats

    func heartbeatLoop() async {
        var lastBeat = ContinuousClock.now
        while !Task.isCancelled {
            // Short sleeps: the interval comes with the first lease, and must apply at once.
            try? await Task.sleep(for: .milliseconds(250))
            guard ContinuousClock.now - lastBeat >= .milliseconds(Int(heartbeatInterval * 1000)) else { continue }
            lastBeat = .now
            let jobs = running.values.map { $0 }
            let limit = Self.undeliveredHeartbeatLimit
            undelivered = undelivered.filter { ContinuousClock.now - $0.value.since < limit }
            let waiting = undelivered.map {
                HeartbeatRequest.Beat(taskID: $0.value.taskID, leaseID: $0.key, progress: "finished; result waiting for delivery")
            }
            guard !jobs.isEmpty || !waiting.isEmpty else { continue }
            let beats = jobs.map { HeartbeatRequest.Beat(taskID: $0.lease.taskID, leaseID: $0.lease.leaseID, progress: $0.handle.progress) }
                + waiting
            do {
                let answer = try await client.heartbeat(beats)
                WorkerMetrics.contacted()
                for verdict in answer.leases where verdict.action == .stop {
                    guard let job = running[verdict.leaseID] else { continue }
                    logger.notice(
                        "coordinator says stop", metadata: ["repro.task.id": "\(verdict.taskID)", "repro.reason": "\(verdict.reason ?? "")"])
                    display("task \(verdict.taskID): stopping — \(verdict.reason ?? "lease lost")")
                    job.handle.stop(.cancelled)
                }
            } catch {
                // The coordinator being away does not stop running jobs; the lease may expire, and the
                // result is still delivered later (accepted if the task was not leased again).
                logger.warning("heartbeat failed", metadata: ["repro.error": "\(error)"])
            }
        }
    }

    // MARK: Results

    func sendSpoolLoop() async {
        var failures = 0
        for await _ in spoolWakeups {
            while !Task.isCancelled {
                let pending = spool.pending()
                if pending.isEmpty { break }
                if await send(Array(pending.prefix(100))) {
                    failures = 0
                } else {
                    failures += 1
                    // Short: after an outage every second counts, since an expired lease is taken only
                    // by the next lease request of any worker.
                    try? await Task.sleep(for: .seconds(min(5.0, pow(2.0, Double(min(failures, 3))) / 2)))
                }
            }
        }
    }

    /// Sends a batch; true when the coordinator answered (each receipt is final: accepted, recorded,
    /// or rejected because the lease was lost).
    ///
    /// A batch the coordinator refuses outright (a 4xx) is resent one result at a time, so that one
    /// invalid result sets aside only itself, not the good ones sent with it.
    func send(_ results: [TaskResult]) async -> Bool {
        do {
            acknowledge(try await client.submitResults(results))
            WorkerMetrics.contacted()
            return true
        } catch let error as CoordinatorClientError where !error.isRetryable && results.count > 1 {
            logger.warning(
                "batch of results refused by the coordinator; resending them one at a time",
                metadata: ["repro.error": "\(error)", "repro.results.count": "\(results.count)"])
            for result in results {
                // A batch of one is quarantined if refused; a retryable failure leaves the rest
                // (this one included) in the spool for the next attempt.
                guard await send([result]) else { return false }
            }
            return true
        } catch let error as CoordinatorClientError where !error.isRetryable {
            // A 4xx for this result would repeat forever: keep the file aside for a person to read.
            for result in results {
                logger.error(
                    "result refused by the coordinator; kept in the spool",
                    metadata: ["repro.task.id": "\(result.taskID)", "repro.error": "\(error)"])
                spool.quarantine(leaseID: result.leaseID)
                undelivered.removeValue(forKey: result.leaseID)
            }
            return true
        } catch {
            if Task.isCancelled {
                // The worker is stopping: its last flush already ran, and the spool loop was cancelled in the
                // middle of a request. Not a fault; what is left stays in the spool for the next start.
                logger.debug("sending results stopped by the worker's stop; they stay in the spool")
            } else {
                logger.warning("sending results failed; will retry", metadata: ["repro.error": "\(error)"])
            }
            return false
        }
    }

    /// Forgets results the coordinator answered for: each receipt is final (accepted, recorded, or
    /// rejected because the lease was lost).
    func acknowledge(_ receipts: [ResultReceipt]) {
        defer { WorkerMetrics.spoolDepth(spool.pending().count) }
        for receipt in receipts {
            spool.remove(leaseID: receipt.leaseID)
            undelivered.removeValue(forKey: receipt.leaseID)
            if receipt.status == .rejected {
                logger.notice(
                    "result refused",
                    metadata: ["repro.task.id": "\(receipt.taskID)", "repro.reason": "\(receipt.detail ?? "")"])
            }
        }
    }

    func flushSpool(deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline {
            let pending = spool.pending()
            if pending.isEmpty { return }
            if !(await send(Array(pending.prefix(100)))) { try? await Task.sleep(for: .seconds(1)) }
        }
        let left = spool.pending().count
        if left > 0 { display("\(left) result(s) stay in the spool and will be sent at the next start") }
    }
}
