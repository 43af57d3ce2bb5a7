import Foundation
import Logging
import ReproClient
import ReproCore

/// Runs a bundle made on this machine through the worker's real task path (job folder, bundle
/// cache, virtualenv, sandbox, metrics) without a coordinator: the bundle is put into the local
/// cache first, so nothing is downloaded. Used by `--check-isolation` and the sandbox benchmark.
public struct LocalBundleRunner: Sendable {
    let executor: TaskExecutor
    let job: JobSpec

    /// Packs `files` (name to content) as a bundle, caches it, and prepares isolation as a worker would.
    public static func prepare(
        isolation: IsolationLevel, workDirectory: URL, python: String?, files: [String: Data], requirements: String?,
        slots: Int = 1, logger: Logger
    ) async throws -> LocalBundleRunner {
        let configuration = WorkerConfiguration(
            coordinatorURL: "http://127.0.0.1:9", token: "unused", slots: slots, workDirectory: workDirectory,
            python: python, isolation: isolation)
        let code = workDirectory.appendingPathComponent("local-bundle")
        try? FileManager.default.removeItem(at: code)
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: code.appendingPathComponent(name)) }
        let bundle = try BundleArchive.pack(directory: code)
        let sha = BundleArchive.sha256Hex(bundle)
        let cache = try ContentCache(directory: configuration.cacheDirectory.appendingPathComponent("bundles"))
        _ = try cache.store(data: bundle, expectedSHA256: sha)
        try FileManager.default.createDirectory(
            at: workDirectory.appendingPathComponent("spool"), withIntermediateDirectories: true)

        let setup = try await IsolationSetup.prepare(configuration: configuration, logger: logger)
        var effective = configuration
        effective.python = setup.python
        let executor = TaskExecutor(
            client: CoordinatorClient(baseURL: configuration.coordinatorURL, key: nil), configuration: effective,
            cache: cache, environments: VirtualEnvBuilder(sandbox: setup.sandbox, logger: logger),
            fingerprints: FingerprintCache(), isolation: isolation, sandbox: setup.sandbox,
            pythonPrefix: setup.pythonPrefix, cgroups: setup.cgroups, gpus: GPUAllocator(count: 0, sharing: false), logger: logger)
        let job = JobSpec(
            code: CodeReference(bundleSHA256: sha), requirements: requirements, timeoutSeconds: 120, memoryBytes: 0,
            cpus: 1, gpus: 0)
        return LocalBundleRunner(executor: executor, job: job)
    }

    /// Runs `arguments` (in the bundle's folder) as one task with this seed, to its result.
    public func run(_ arguments: [String], seed: Int64) async -> TaskResult {
        let lease = TaskLease(
            taskID: seed + 1, leaseID: UUID(), studyID: UUID(), dataset: "local", seed: seed, configuration: nil,
            replica: 1, attempt: 1, arguments: arguments, job: job, leaseExpiresAt: Date().addingTimeInterval(600))
        // The volunteer's own bundle, packed on this machine: there is no coordinator and no manifest to verify.
        return await executor.runVerified(lease, handle: TaskExecutor.Handle())
    }
}
