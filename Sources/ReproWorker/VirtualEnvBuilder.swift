import Foundation
import Logging
import ReproCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A Python virtual environment ready to run jobs.
public struct VirtualEnv: Sendable, Equatable {
    /// The environment's directory.
    public let root: URL

    /// Creates a value for an existing environment at `root`.
    public init(root: URL) {
        self.root = root
    }

    /// `root/bin`, to put first on a job's `PATH`.
    public var binDirectory: URL { root.appending(path: "bin", directoryHint: .isDirectory) }
    /// The environment's Python interpreter.
    public var python: URL { binDirectory.appending(path: "python", directoryHint: .notDirectory) }
}

/// Builds one virtualenv per requirements file and Python, cached on disk
/// and shared by every slot and worker process using the same cache.
///
/// The cache key is the SHA-256 of the requirements file's bytes and of the
/// interpreter's `sys.version` and real path, so an edited requirements file
/// or an upgraded Python gets a fresh environment and nothing is re-installed
/// otherwise. Environments live in `cacheRoot/venvs/<key>`.
///
/// A finished environment is sealed (``VirtualEnvSeal``): read-only, and its tree's digest
/// recorded beside it. An environment whose digest no longer matches was changed after its build
/// (a job that wrote a `.pth` file into it, say) and is rebuilt, not reused.
///
/// With a ``SandboxLauncher`` the build itself runs sandboxed as the job user: `pip install` runs
/// code from the requirements (build scripts of source packages), so it gets the network to reach
/// the package index and nothing of the host writable but the environment being built.
///
/// Virtualenvs cannot be moved once built (their scripts embed their path),
/// so an environment is built in place at its final path while holding an
/// exclusive `flock` on `cacheRoot/venvs/<key>.lock`, and the marker file
/// `.complete` is written last. A directory without the marker is the
/// remains of a crashed or failed build and is deleted and rebuilt. Other
/// builders of the same key wait for the lock and then reuse the result.
public struct VirtualEnvBuilder: Sendable {
    /// The name of the file that marks a finished environment.
    public static let completeMarker = ".complete"

    /// The environment `python -m venv` and `pip` run with: the worker's
    /// own by default, since pip needs its proxy, index and certificate settings.
    public var processEnvironment: [String: String]
    /// The longest `pip install` may take; it never hangs a slot for ever.
    public var installTimeLimit: Duration
    /// Runs the build in a sandbox as the job user; nil builds as the worker, unsandboxed.
    public var sandbox: SandboxLauncher?
    private let logger: Logger

    /// Creates a builder.
    ///
    /// - Parameters:
    ///   - processEnvironment: the environment for Python and pip.
    ///     `PYTHONHOME`, `PYTHONPATH` and `VIRTUAL_ENV` are removed from it,
    ///     since they would make the build use another environment's files.
    ///   - installTimeLimit: the time limit of `pip install`; 20 minutes by default.
    ///   - logger: receives progress, and pip's output at debug level.
    public init(
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        installTimeLimit: Duration = .seconds(20 * 60),
        sandbox: SandboxLauncher? = nil,
        logger: Logger
    ) {
        var environment = processEnvironment
        for name in ["PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV"] {
            environment.removeValue(forKey: name)
        }
        // The worker's own secrets (REPRO_TOKEN above all) never reach pip, which runs the
        // requirements' build scripts.
        for name in environment.keys where name.hasPrefix("REPRO_") {
            environment.removeValue(forKey: name)
        }
        self.processEnvironment = environment
        self.installTimeLimit = installTimeLimit
        self.sandbox = sandbox
        self.logger = logger
    }

    /// The environment for a requirements file, built now or reused from the cache.
    ///
    /// - Parameters:
    ///   - path: the `requirements.txt` to install.
    ///   - cacheRoot: the worker's cache directory; environments go in its `venvs` folder.
    ///   - python: the interpreter to base the environment on, a path or a name on `PATH`.
    /// - Throws: ``VirtualEnvError`` (with pip's output for a failed install),
    ///   or `CancellationError` if the task is cancelled meanwhile.
    public func environment(
        forRequirements path: URL,
        cacheRoot: URL,
        python: String = "python3"
    ) async throws -> VirtualEnv {
        let requirements: Data
        do {
            requirements = try Data(contentsOf: path)
        } catch {
            throw VirtualEnvError(.requirementsUnreadable, "cannot read \(path.path): \(error.localizedDescription)")
        }
        let interpreter = try await self.interpreter(python)
        let key = BundleArchive.sha256Hex(requirements + Data("\n\0python\0\(interpreter.identity)".utf8))
        let venvs = cacheRoot.appending(path: "venvs", directoryHint: .isDirectory)
        let environment = VirtualEnv(root: venvs.appending(path: key, directoryHint: .isDirectory))
        var logger = logger
        logger[metadataKey: "repro.venv.key"] = "\(key.prefix(12))"
        logger[metadataKey: "repro.venv.requirements"] = "\(path.path)"

        if isReady(environment) {
            logger.debug("reusing virtualenv")
            return environment
        }
        do {
            try FileManager.default.createDirectory(at: venvs, withIntermediateDirectories: true)
            // Jobs reach their own environment by its name; nobody lists the others.
            chmod(venvs.path, 0o711)
        } catch {
            throw VirtualEnvError(.ioFailed, "cannot create \(venvs.path): \(error.localizedDescription)")
        }
        let lock = try await FileLock.acquire(venvs.appending(path: "\(key).lock"), logger: logger)
        defer { lock.release() }

        // Another worker may have finished it while we waited for the lock.
        if isReady(environment) {
            logger.debug("reusing virtualenv built by another process")
            return environment
        }
        if FileManager.default.fileExists(atPath: environment.root.path) {
            if isComplete(environment) {
                logger.warning(
                    "virtualenv changed since it was sealed (or was built by an older worker); rebuilding it",
                    metadata: ["repro.venv.path": "\(environment.root.path)"])
            } else {
                logger.notice("removing an incomplete virtualenv left by an earlier build")
            }
            try await BlockingWork.run { try removeIncomplete(environment) }
        }
        do {
            try await build(
                environment,
                requirements: path,
                hasRequirements: Self.hasRequirements(requirements),
                interpreter: interpreter,
                logger: logger
            )
            try await BlockingWork.run { try VirtualEnvSeal.seal(environment.root) }
        } catch {
            _ = try? await BlockingWork.run { try VirtualEnvSeal.remove(environment.root) }
            throw error
        }
        return environment
    }

    // MARK: - Building

    private func build(
        _ environment: VirtualEnv,
        requirements: URL,
        hasRequirements: Bool,
        interpreter: Interpreter,
        logger: Logger
    ) async throws {
        let started = ContinuousClock.now
        logger.info(
            "building virtualenv",
            metadata: ["repro.venv.path": "\(environment.root.path)", "repro.venv.sandboxed": "\(sandbox != nil)"])
        let requirementsDirectory = requirements.deletingLastPathComponent()
        let policy = try buildPolicy(
            for: environment, requirementsDirectory: requirementsDirectory, interpreter: interpreter)
        try await runStep(
            "python -m venv",
            executable: interpreter.executable,
            arguments: ["-m", "venv", environment.root.path],
            workingDirectory: URL(filePath: "/"),
            timeLimit: .seconds(5 * 60),
            policy: policy,
            logger: logger
        )
        // pip refuses a requirements file with nothing in it on some
        // versions; there is nothing to install anyway.
        if hasRequirements {
            try await runStep(
                "pip install -r \(requirements.lastPathComponent)",
                executable: environment.python.path,
                arguments: [
                    "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", requirements.path,
                ],
                // Relative paths inside the file (-r other.txt, ./pkg) are relative to it.
                workingDirectory: requirementsDirectory,
                timeLimit: installTimeLimit,
                policy: policy,
                logger: logger
            )
        }
        try await BlockingWork.run { try writeMarker(for: environment, requirements: requirements) }
        logger.info(
            "virtualenv ready",
            metadata: ["repro.venv.build_seconds": "\(started.duration(to: .now).inSeconds)"]
        )
    }

    private func runStep(
        _ step: String,
        executable: String,
        arguments: [String],
        workingDirectory: URL,
        timeLimit: Duration,
        policy: SandboxPolicy?,
        logger: Logger
    ) async throws {
        var job = JobRunner.Job(
            executable: executable,
            arguments: arguments,
            workingDirectory: workingDirectory,
            environment: processEnvironment,
            timeLimit: timeLimit,
            outputTailLimit: 16 * 1024
        )
        if let sandbox, var policy {
            policy.workingDirectory = workingDirectory.path
            job.launcher = sandbox.launcher(for: policy)
            job.launcherReportsSignalsAsStatus = true
            job.environment.merge(policy.environment) { $1 }
            job.environment["HOME"] = "/tmp"
        }
        let outcome: JobRunner.Outcome
        do {
            outcome = try await JobRunner(job: job, logger: logger).run { line in
                logger.debug("\(line)", metadata: ["repro.venv.step": "\(step)"])
            }
        } catch let error as JobRunnerError {
            throw VirtualEnvError(.pythonNotFound, "\(step) could not start: \(error.message)")
        }
        if outcome.cancelled {
            throw CancellationError()
        }
        guard outcome.succeeded else {
            let how =
                outcome.timedOut ? "timed out after \(Int(timeLimit.inSeconds)) s" : "failed (\(outcome.termination))"
            throw VirtualEnvError(
                step.hasPrefix("pip") ? .installFailed : .venvFailed,
                "\(step) \(how):\n\(outcome.outputTail.trimmingCharacters(in: .whitespacesAndNewlines))",
                output: outcome.outputTail
            )
        }
    }

    /// The Python an environment is built from.
    public struct Interpreter: Sendable, Equatable {
        /// `sys.version` and the real path of the executable, which together decide whether an
        /// environment built with it can be reused.
        public var identity: String
        /// The interpreter's real path (not a shim or a link on `PATH`), what a sandbox can run.
        public var executable: String
        /// `sys.base_prefix`: the installation the environment's `bin/python` points into.
        public var basePrefix: String
    }

    /// Runs `python` once to learn what it really is.
    public func interpreter(_ python: String) async throws -> Interpreter {
        let job = JobRunner.Job(
            executable: python,
            arguments: [
                "-c", "import os, sys; print(sys.version); print(os.path.realpath(sys.executable)); print(sys.base_prefix)",
            ],
            workingDirectory: URL(filePath: "/"),
            environment: processEnvironment,
            timeLimit: .seconds(60)
        )
        let outcome: JobRunner.Outcome
        do {
            outcome = try await JobRunner(job: job, logger: logger).run()
        } catch let error as JobRunnerError {
            throw VirtualEnvError(.pythonNotFound, "cannot run \(python): \(error.message)")
        }
        if outcome.cancelled { throw CancellationError() }
        let lines = outcome.outputTail.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").map(String.init)
        guard outcome.succeeded, lines.count >= 3 else {
            throw VirtualEnvError(
                .pythonNotFound,
                "\(python) failed (\(outcome.termination)): \(outcome.outputTail)",
                output: outcome.outputTail
            )
        }
        return Interpreter(
            identity: lines.dropLast().joined(separator: "\n"), executable: lines[lines.count - 2],
            basePrefix: lines[lines.count - 1])
    }

    /// The sandbox of a build: the environment writable, the requirements' folder, the base Python
    /// and pip's local package folders (`PIP_FIND_LINKS`) readable, the network shared.
    private func buildPolicy(
        for environment: VirtualEnv, requirementsDirectory: URL, interpreter: Interpreter
    ) throws -> SandboxPolicy? {
        guard let sandbox else { return nil }
        try FileManager.default.createDirectory(at: environment.root, withIntermediateDirectories: true)
        if sandbox.user.switchesUser {
            guard chown(environment.root.path, sandbox.user.uid, sandbox.user.gid) == 0 else {
                throw VirtualEnvSeal.failure("chown", environment.root.path)
            }
        }
        let localLinks = (processEnvironment["PIP_FIND_LINKS"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
            .map(String.init).filter { $0.hasPrefix("/") && FileManager.default.fileExists(atPath: $0) }
        var readOnly = [requirementsDirectory.path] + localLinks
        if !interpreter.basePrefix.hasPrefix("/usr/") { readOnly.append(interpreter.basePrefix) }
        return SandboxPolicy(
            purpose: .environmentBuild, uid: sandbox.user.uid, gid: sandbox.user.gid,
            workingDirectory: requirementsDirectory.path, readOnlyPaths: readOnly,
            writablePaths: [environment.root.path], network: true)
    }

    /// Whether the file has a line pip would act on (not blank, not only a comment).
    static func hasRequirements(_ requirements: Data) -> Bool {
        String(decoding: requirements, as: UTF8.self).split(whereSeparator: \.isNewline).contains { line in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return !content.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    private func isComplete(_ environment: VirtualEnv) -> Bool {
        FileManager.default.fileExists(atPath: environment.root.appending(path: Self.completeMarker).path)
    }

    /// Finished, and unchanged since it was sealed.
    private func isReady(_ environment: VirtualEnv) -> Bool {
        isComplete(environment) && VirtualEnvSeal.isIntact(environment.root)
    }

    private func removeIncomplete(_ environment: VirtualEnv) throws {
        do {
            try VirtualEnvSeal.remove(environment.root)
        } catch {
            throw VirtualEnvError(
                .ioFailed,
                "cannot remove the incomplete virtualenv \(environment.root.path): \(error.localizedDescription)"
            )
        }
    }

    /// Writes the marker durably: it promises that everything before it is on disk.
    private func writeMarker(for environment: VirtualEnv, requirements: URL) throws {
        let marker = environment.root.appending(path: Self.completeMarker)
        let text = "requirements: \(requirements.path)\nbuilt: \(Date().formatted(.iso8601))\n"
        sync()  // pip wrote thousands of files; make them durable before the promise.
        let fd = open(marker.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw VirtualEnvError(.ioFailed, "cannot write \(marker.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = text.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(fd) == 0 else {
            throw VirtualEnvError(.ioFailed, "cannot write \(marker.path): \(String(cString: strerror(errno)))")
        }
    }
}
