import Foundation
import Logging
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

/// Real coordinator and worker processes over a fresh database: what a deployment looks like.
final class Cluster: @unchecked Sendable {
    // @unchecked: mutated only from the test's own task (start/stop calls are sequential).
    static let adminKey = "rg_e2e_admin_key_0123456789abcdefghijklmnopqrstuvw"

    let databaseURL: String
    let logs: URL
    var coordinators: [ManagedProcess] = []
    var coordinatorURLs: [String] = []
    var workers: [ManagedProcess] = []
    var volunteerKey = ""
    var researcherKey = ""
    var researcherID: UUID?
    var moderatorKey = ""
    /// The coordinators' signing key, shared by every replica of the cluster as an operator would.
    var signingKey: URL { logs.appendingPathComponent("signing.key") }

    init(databaseURL: String) throws {
        self.databaseURL = databaseURL
        self.logs = try Paths.temporaryDirectory("reprogrid-e2e")
    }

    /// Starts a coordinator on a free port and waits until it is ready.
    @discardableResult
    func startCoordinator(
        leaseTTL: Int = 20, reaperInterval: Double = 1, port: Int? = nil, extra: [String] = []
    ) async throws -> String {
        let port = port ?? Paths.freePort()
        let process = try ManagedProcess(
            name: "coordinator-\(coordinators.count)-\(port)", executable: Paths.binary("repro-coordinator"),
            arguments: [
                "serve", "--database-url", databaseURL, "--port", "\(port)", "--migrations-dir", Paths.migrations.path,
                "--lease-ttl", "\(leaseTTL)", "--reaper-interval", "\(reaperInterval)",
                "--retry-backoff", "0.2", "--log-level", "info", "--signing-key", signingKey.path,
            ] + extra,
            // In the environment, not on the command line, where every local process could read it.
            environment: ["REPRO_ADMIN_KEY": Self.adminKey], logDirectory: logs)
        let url = "http://127.0.0.1:\(port)"
        coordinators.append(process)
        if !coordinatorURLs.contains(url) { coordinatorURLs.append(url) }
        try await waitUntilReady(url, process: process)
        return url
    }

    func waitUntilReady(_ url: String, process: ManagedProcess) async throws {
        let client = CoordinatorClient(baseURL: url, key: nil)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? await client.send(.GET, "/readyz")) != nil { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ClusterError("coordinator at \(url) did not become ready:\n\(process.output.suffix(4000))")
    }

    /// Creates the researcher, moderator and volunteer keys through the API. The researcher is marked
    /// trusted unless `trustResearcher` is false, so their studies run without a review step.
    func createKeys(trustResearcher: Bool = true) async throws {
        let admin = CoordinatorClient(baseURL: coordinatorURLs[0], key: Self.adminKey)
        let researcher = try await admin.createAccount(name: "researcher", roles: [.researcher])
        researcherKey = researcher.key
        researcherID = researcher.accountID
        if trustResearcher { _ = try await admin.setTrusted(researcher.accountID, trusted: true, reason: "test cluster") }
        moderatorKey = try await admin.createAccount(name: "moderator", roles: [.moderator]).key
        volunteerKey = try await admin.createAccount(name: "volunteer", roles: [.volunteer]).key
    }

    /// Starts a worker process with its own work directory (kept across restarts by `name`).
    @discardableResult
    func startWorker(name: String, coordinator: String? = nil, slots: Int = 1, extra: [String] = []) throws -> ManagedProcess {
        let work = logs.appendingPathComponent("work-\(name)")
        let process = try ManagedProcess(
            name: "worker-\(name)-\(workers.count)", executable: Paths.binary("repro-worker"),
            arguments: [
                "--coordinator", coordinator ?? coordinatorURLs[0], "--token", volunteerKey, "--slots", "\(slots)",
                "--work-dir", work.path, "--cache-dir", Paths.sharedCache.path, "--name", name, "--lease-wait", "5",
                "--grace-period", "5",
            ] + extra,
            logDirectory: logs)
        workers.append(process)
        return process
    }

    /// Runs the `repro` CLI and returns its standard output; fails with its output on a non-zero exit.
    func cli(_ arguments: [String], key: String? = nil, timeout: Duration = .seconds(120)) async throws -> String {
        let process = try ManagedProcess(
            name: "repro-\(UUID().uuidString.prefix(6))", executable: Paths.binary("repro"), arguments: arguments,
            environment: ["REPRO_COORDINATOR": coordinatorURLs[0], "REPRO_KEY": key ?? researcherKey], logDirectory: logs)
        guard await process.waitForExit(timeout: timeout) else {
            process.kill9()
            throw ClusterError("repro \(arguments.joined(separator: " ")) did not finish:\n\(process.output)")
        }
        guard process.exitStatus == 0 else {
            throw ClusterError("repro \(arguments.joined(separator: " ")) exited with \(process.exitStatus):\n\(process.output)")
        }
        return process.output
    }

    /// Every process's log, for a failure message.
    func dumpLogs() -> String {
        (coordinators + workers).map { "==== \($0.name)\n\($0.output.suffix(6000))" }.joined(separator: "\n")
    }

    /// Stops everything; SIGKILL for what does not stop within the timeout.
    func stopAll() async {
        for worker in workers { worker.terminate() }
        for worker in workers where !(await worker.waitForExit(timeout: .seconds(20))) { worker.kill9() }
        for coordinator in coordinators { coordinator.terminate() }
        for coordinator in coordinators where !(await coordinator.waitForExit(timeout: .seconds(20))) { coordinator.kill9() }
    }
}

struct ClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
