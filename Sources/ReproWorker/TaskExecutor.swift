import Foundation
import Logging
import ReproClient
import ReproCore

/// Runs one leased task: fetches and verifies the code, prepares the environment, runs the command
/// under its limits, collects metrics and returns the result to report. Every failure becomes a
/// failed result with a reason; nothing here crashes the worker.
struct TaskExecutor: Sendable {
    let client: CoordinatorClient
    let configuration: WorkerConfiguration
    let cache: ContentCache
    let environments: VirtualEnvBuilder
    let fingerprints: FingerprintCache
    /// How jobs are isolated; with `strict`, ``sandbox`` is set.
    let isolation: IsolationLevel
    let sandbox: SandboxLauncher?
    /// The installation the worker's Python lives in, bound read-only into sandboxes when it is
    /// outside `/usr` (a virtualenv's `bin/python` points into it).
    let pythonPrefix: String?
    /// Per-job cgroups (memory, processes, CPU) where the host delegates one; else rlimits.
    var cgroups: JobCgroups? = nil
    let gpus: GPUAllocator
    let logger: Logger
    /// The coordinator keys this worker trusts (decision 0007); nil only for ``LocalBundleRunner``, whose
    /// bundles the volunteer made on this machine and which runs them through ``runVerified(_:handle:)``.
    var pins: PinnedKeys? = nil
    /// The worker's terminal display: one line per verified or refused task.
    var display: @Sendable (String) -> Void = { _ in }

    /// Hooks a running job exposes to the worker loop: its last output line and a way to stop it.
    final class Handle: Sendable {
        private let state = MutexBox<(runner: JobRunner?, progress: String?, stopReason: RunOutcome?)>((nil, nil, nil))

        var progress: String? { state.value.progress }
        var stopReason: RunOutcome? { state.value.stopReason }

        func attach(_ runner: JobRunner) -> Bool {
            state.update { state in
                state.runner = runner
                return state.stopReason == nil
            }
        }

        func report(_ line: String) { state.update { $0.progress = String(line.prefix(200)) } }

        /// Stops the job (cancelled study, lost lease, worker shutdown); idempotent.
        func stop(_ reason: RunOutcome) {
            let runner = state.update { state -> JobRunner? in
                if state.stopReason == nil { state.stopReason = reason }
                return state.runner
            }
            runner?.cancel()
        }
    }

    /// Verifies the lease against its signed manifest and the pinned keys, and runs it only then. A
    /// refused task downloads nothing, builds nothing and runs nothing: it is reported failed with the
    /// reason, and logged as an error.
    func execute(_ lease: TaskLease, handle: Handle) async -> TaskResult {
        guard let pins else { return refuse(lease, "this worker has no pinned coordinator key") }
        var verdict = ManifestVerifier.verify(lease, pinned: pins.keys)
        if case .refused = verdict, let keyID = lease.signature?.keyID, pins.keys[keyID] == nil {
            // Perhaps the coordinator rotated its key since this worker started: a key a pinned key
            // endorsed is pinned now; any other stays refused.
            await pins.refresh { [client] in try await client.signingKeys() }
            verdict = ManifestVerifier.verify(lease, pinned: pins.keys)
        }
        switch verdict {
        case .refused(let reason):
            return refuse(lease, reason)
        case .verified(let keyID):
            logger.info(
                "job manifest signature verified",
                metadata: ["repro.task.id": "\(lease.taskID)", "repro.signing.key_id": "\(keyID)"])
            display("task \(lease.taskID): signature verified (key \(keyID)); code, command and resources match the signed manifest")
            return await runVerified(lease, handle: handle)
        }
    }

    /// The refusal of a task that failed verification: nothing ran.
    func refuse(_ lease: TaskLease, _ reason: String) -> TaskResult {
        logger.error(
            "REFUSED to run a task: \(reason)",
            metadata: ["repro.task.id": "\(lease.taskID)", "repro.study.id": "\(lease.studyID)", "repro.lease.id": "\(lease.leaseID)"])
        display("task \(lease.taskID): REFUSED, nothing was run — \(reason)")
        return TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .failed, exitCode: nil, durationSeconds: 0,
            metrics: [:], error: "refused by the worker: \(reason)", logTail: nil, fingerprint: nil, hardwareClass: nil)
    }

    /// Runs a lease whose manifest was verified (or, for ``LocalBundleRunner``, the volunteer's own bundle).
    func runVerified(_ lease: TaskLease, handle: Handle) async -> TaskResult {
        let started = ContinuousClock.now
        var logger = logger
        logger[metadataKey: "repro.task.id"] = "\(lease.taskID)"
        logger[metadataKey: "repro.lease.id"] = "\(lease.leaseID)"
        let folder = JobFolder(jobs: configuration.workDirectory.appendingPathComponent("jobs"), leaseID: lease.leaseID)
        let jobDirectory = folder.root
        defer { try? FileManager.default.removeItem(at: jobDirectory) }

        func failure(_ outcome: RunOutcome, _ message: String, exitCode: Int? = nil, tail: String? = nil,
                     fingerprint: EnvironmentFingerprint? = nil) -> TaskResult {
            logger.warning("task attempt failed", metadata: ["repro.outcome": "\(outcome.rawValue)", "repro.error": "\(message)"])
            return TaskResult(
                taskID: lease.taskID, leaseID: lease.leaseID, outcome: outcome, exitCode: exitCode,
                durationSeconds: (ContinuousClock.now - started).inSeconds, metrics: [:], error: message, logTail: tail,
                fingerprint: fingerprint.flatMap(Self.json), hardwareClass: fingerprint?.hardwareClass)
        }

        let codeDirectory = folder.code
        let outputDirectory = folder.output
        do {
            try folder.create(for: sandbox?.user)
            try await fetchCode(lease.job.code, into: codeDirectory)
            if sandbox != nil { try folder.makeCodeReadable() }
        } catch {
            return failure(.failed, "fetching the code failed: \(error)")
        }

        var path = "/usr/local/bin:/usr/bin:/bin"
        var python: String? = configuration.python
        var environmentVariables: [String: String] = [:]
        var readOnly = [codeDirectory.path]
        if let pythonPrefix, !pythonPrefix.hasPrefix("/usr/") { readOnly.append(pythonPrefix) }
        if let requirements = lease.job.requirements {
            do {
                handle.report("preparing Python environment")
                let venv = try await environments.environment(
                    forRequirements: codeDirectory.appendingPathComponent(requirements),
                    cacheRoot: configuration.cacheDirectory, python: configuration.python)
                path = venv.binDirectory.path + ":" + path
                python = venv.python.path
                environmentVariables["VIRTUAL_ENV"] = venv.root.path
                readOnly.append(venv.root.path)
            } catch {
                return failure(.failed, "preparing the Python environment failed: \(error)")
            }
        }
        var fingerprint = await fingerprints.fingerprint(python: python, logger: logger)
        fingerprint.isolation = isolation.rawValue
        guard handle.stopReason == nil else {
            return failure(handle.stopReason!, "stopped before the job started")
        }

        // A scrubbed environment: nothing of the worker's (its token above all) reaches the job.
        environmentVariables.merge([
            "PATH": path, "HOME": jobDirectory.path, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1",
            // A sealed environment must stay byte-for-byte as built; Python would otherwise cache
            // bytecode into it where it can (a job run as root outside a sandbox).
            "PYTHONDONTWRITEBYTECODE": "1",
            "TMPDIR": jobDirectory.path, "REPRO_SEED": "\(lease.seed)", "REPRO_DATASET": lease.dataset,
            "REPRO_TASK_ID": "\(lease.taskID)", "REPRO_OUTPUT_DIR": outputDirectory.path,
            "REPRO_REPLICA": "\(lease.replica)", "OMP_NUM_THREADS": "\(max(1, lease.job.cpus))",
            "OPENBLAS_NUM_THREADS": "\(max(1, lease.job.cpus))", "MKL_NUM_THREADS": "\(max(1, lease.job.cpus))",
        ]) { $1 }
        if let configurationName = lease.configuration { environmentVariables["REPRO_CONFIGURATION"] = configurationName }
        // Unmodified MLflow scripts log into a file store in the output folder (the only place the
        // sandbox lets a job write), read back after the job.
        environmentVariables.merge(
            MLflowStore.environment(
                outputDirectory: outputDirectory, study: lease.studyID, task: lease.taskID, dataset: lease.dataset,
                seed: lease.seed)) { $1 }
        for name in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] {
            // Set on some machines because old OpenBLAS builds need them; the job's numpy must see them too.
            if let value = ProcessInfo.processInfo.environment[name] { environmentVariables[name] = value }
        }
        if lease.job.network && !configuration.allowNetwork {
            // The coordinator leases such tasks only to workers that allow the network; refuse anyway.
            return failure(.failed, "the study asks for the network and this worker does not allow it (--allow-network)")
        }
        guard let executable = lease.arguments.first else { return failure(.failed, "the task has an empty command") }

        let gpuIndices: [Int]
        do {
            gpuIndices = try await gpus.acquire(lease.job.gpus)
        } catch {
            return failure(.failed, "\(error)", fingerprint: fingerprint)
        }
        defer { Task { [gpus] in await gpus.release(gpuIndices) } }
        if !gpuIndices.isEmpty {
            environmentVariables["CUDA_VISIBLE_DEVICES"] = gpuIndices.map(String.init).joined(separator: ",")
        }
        var jobCgroup: URL?
        var job = JobRunner.Job(
            executable: executable, arguments: Array(lease.arguments.dropFirst()), workingDirectory: codeDirectory,
            environment: environmentVariables, timeLimit: .seconds(lease.job.timeoutSeconds),
            memoryLimitBytes: lease.job.memoryBytes > 0 && lease.job.gpus == 0 ? Int(lease.job.memoryBytes) : nil)
        if let sandbox {
            let policy = sandbox.jobPolicy(
                workingDirectory: codeDirectory.path, readOnly: readOnly, writable: [jobDirectory.path],
                network: lease.job.network, gpuIndices: gpuIndices)
            job.launcher = sandbox.launcher(for: policy, processLimit: configuration.processLimit)
            job.launcherReportsSignalsAsStatus = true
            if let cgroups {
                do {
                    let group = try cgroups.create(
                        job: lease.leaseID,
                        limits: .init(
                            memoryBytes: lease.job.memoryBytes, processes: configuration.processLimit, cpus: lease.job.cpus))
                    jobCgroup = group
                    job.launcher = JobCgroups.enter(group) + sandbox.launcher(for: policy)
                    // Resident memory, counted by the kernel, replaces the address-space limit.
                    job.memoryLimitBytes = nil
                } catch {
                    return failure(.failed, "cannot make the job's cgroup: \(error)", fingerprint: fingerprint)
                }
            }
            job.environment.merge(policy.environment) { $1 }
        }
        defer { if let cgroups, let jobCgroup { cgroups.remove(jobCgroup) } }
        let runner = JobRunner(job: job, logger: logger)
        guard handle.attach(runner) else { return failure(handle.stopReason ?? .cancelled, "stopped before the job started") }
        logger.info(
            "job started",
            metadata: [
                "repro.command": "\(lease.arguments.joined(separator: " "))", "repro.isolation": "\(isolation.rawValue)",
            ])
        let parser = MutexBox(MetricsParser())
        let outcome: JobRunner.Outcome
        do {
            outcome = try await runner.run { line in
                parser.update { $0.consume(line: line) }
                handle.report(line)
            }
        } catch {
            return failure(handle.stopReason ?? .failed, "the job could not be started: \(error)", fingerprint: fingerprint)
        }
        let tail = outcome.outputTail
        if let reason = handle.stopReason, outcome.cancelled {
            return failure(reason, reason == .interrupted ? "the worker shut down while the job ran" : "stopped by the coordinator",
                tail: tail, fingerprint: fingerprint)
        }
        if outcome.timedOut {
            return failure(.timedOut, "the job exceeded its time limit of \(lease.job.timeoutSeconds) s and was killed",
                tail: tail, fingerprint: fingerprint)
        }
        switch outcome.termination {
        case .exited(0):
            break
        case .exited(let status):
            return failure(.failed, "the job exited with status \(status)", exitCode: Int(status), tail: tail, fingerprint: fingerprint)
        case .signalled(let signal):
            let hint = signal == 9 ? " (killed: out of memory or the memory limit?)" : ""
            return failure(.failed, "the job was killed by signal \(signal)\(hint)", tail: tail, fingerprint: fingerprint)
        }
        let metrics: [String: Double]
        let params: [String: String]?
        do {
            guard folder.outputIsDirectory else {
                throw WorkerError("$REPRO_OUTPUT_DIR is no longer a directory (the job replaced it)")
            }
            let mlflow = try MLflowStore().read(outputDirectory: outputDirectory, task: lease.taskID)
            if let mlflow {
                // The run tags MLflow applied from MLFLOW_RUN_CONTEXT (ReproGrid's own only): whether the
                // job's MLflow honours them shows here, and the end-to-end test reads it.
                let tags = mlflow.tags.filter { $0.key.hasPrefix("reprogrid.") }.sorted { $0.key < $1.key }
                    .map { "\($0.key)=\($0.value.prefix(64))" }.joined(separator: " ")
                logger.info(
                    "MLflow run read",
                    metadata: ["repro.mlflow.run": "\(mlflow.path)", "repro.mlflow.tags": "\(tags.isEmpty ? "none" : tags)"])
            }
            let reported = Result { () throws(MetricsError) in try parser.value.metrics(outputDirectory: outputDirectory) }
            metrics = try MLflowStore.combine(reported: reported, mlflow: mlflow)
            params = mlflow.flatMap { $0.params.isEmpty ? nil : $0.params }
        } catch {
            return failure(.failed, "the job's metrics are invalid: \(error)", exitCode: 0, tail: tail, fingerprint: fingerprint)
        }
        // The study's declared ranges: an implausible value is a failed attempt here already, with the same
        // message the coordinator would give (it checks again, whatever the worker says).
        for name in metrics.keys.sorted() {
            if let reason = MetricRange.violation(metric: name, value: metrics[name]!, ranges: lease.job.metricRanges) {
                return failure(.failed, reason, exitCode: 0, tail: tail, fingerprint: fingerprint)
            }
        }
        let duration = (ContinuousClock.now - started).inSeconds
        logger.info("job succeeded", metadata: ["repro.duration": "\(String(format: "%.1f", duration))", "repro.metrics": "\(metrics)"])
        return TaskResult(
            taskID: lease.taskID, leaseID: lease.leaseID, outcome: .succeeded, exitCode: 0, durationSeconds: duration,
            metrics: metrics, error: nil, logTail: tail, fingerprint: Self.json(fingerprint),
            hardwareClass: fingerprint.hardwareClass, params: params)
    }

    /// Downloads (or takes from the cache) the bundle, verifies its sha256 and unpacks it.
    func fetchCode(_ code: CodeReference, into directory: URL) async throws {
        if let sha = code.bundleSHA256 {
            let data: Data
            if let cached = try cache.verifiedData(for: sha) {
                data = cached
            } else {
                let downloaded = try await client.downloadBundle(sha256: sha)
                _ = try cache.store(data: downloaded, expectedSHA256: sha)
                data = downloaded
            }
            // tar runs as a child process; keep the wait off the cooperative pool.
            try await BlockingWork.run { try BundleArchive.unpack(data, into: directory) }
        } else if let url = code.gitURL, let commit = code.gitCommit {
            try await GitCheckout.fetch(url: url, commit: commit, into: directory, logger: logger)
        } else {
            throw WorkerError("the task names no code")
        }
    }

    static func json(_ fingerprint: EnvironmentFingerprint) -> JSONValue? {
        guard let data = try? JSONEncoder().encode(fingerprint) else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }
}

/// A worker-side failure with a message for people.
struct WorkerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
