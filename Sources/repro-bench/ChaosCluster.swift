import Foundation
import ReproCoordinator

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The processes of a chaos run: two coordinators on one database and real `repro-worker` processes,
/// each of which can be killed with SIGKILL and started again in its old place (same port, same work
/// directory, so a worker replays its spool as after a real crash).
actor ChaosCluster {
    struct Executables: Sendable {
        var coordinator: String
        var worker: String
    }

    let executables: Executables
    let database: DatabaseURL
    let migrations: String
    let coordinatorArguments: [String]
    let root: URL
    let volunteerKey: String
    private(set) var coordinators: [CoordinatorProcess]
    private var workers: [pid_t]
    private let workerSlots: Int

    /// Starts `coordinatorCount` coordinators one after the other (the first runs the migrations alone).
    init(
        executables: Executables, database: DatabaseURL, migrations: String, coordinatorArguments: [String],
        root: URL, coordinatorCount: Int, workerSlots: Int,
        volunteerKey: @Sendable (CoordinatorProcess) async throws -> String
    ) async throws {
        self.executables = executables
        self.database = database
        self.migrations = migrations
        self.coordinatorArguments = coordinatorArguments
        self.root = root
        self.workerSlots = workerSlots
        var started: [CoordinatorProcess] = []
        do {
            for _ in 0..<coordinatorCount {
                started.append(
                    try await CoordinatorProcess.start(
                        executable: executables.coordinator, database: database, migrations: migrations,
                        extra: coordinatorArguments, adminKey: started.first?.adminKey))
            }
            self.volunteerKey = try await volunteerKey(started[0])
        } catch {
            for process in started { process.kill9() }
            throw error
        }
        coordinators = started
        workers = []
    }

    var coordinatorURLs: [String] { coordinators.map(\.baseURL) }

    /// Worker logs, one file per worker index, appended to across restarts.
    nonisolated func workerLog(_ index: Int) -> String { root.appendingPathComponent("worker-\(index).log").path }

    /// Starts `count` workers, spread over the coordinators in turn.
    func startWorkers(_ count: Int) throws {
        for index in 0..<count { workers.append(try startWorker(index)) }
    }

    private func startWorker(_ index: Int) throws -> pid_t {
        // Jobs are trivial and this machine's own: no sandbox, so the run measures the protocol, not bubblewrap.
        try ChildProcess.start(
            executables.worker,
            arguments: [
                "--coordinator", coordinators[index % coordinators.count].baseURL, "--token", volunteerKey,
                "--slots", "\(workerSlots)", "--work-dir", root.appendingPathComponent("work-\(index)").path,
                "--cache-dir", root.appendingPathComponent("cache").path, "--name", "chaos-\(index)",
                "--lease-wait", "5", "--grace-period", "5", "--isolation", "none", "--log-level", "notice",
            ], log: workerLog(index))
    }

    /// SIGKILL of `indices`, then the same workers start again after `pause`.
    func killAndRestartWorkers(_ indices: [Int], pause: Duration) async throws {
        for index in indices { Self.kill9(workers[index]) }
        try await Task.sleep(for: pause)
        for index in indices { workers[index] = try startWorker(index) }
    }

    /// SIGKILL of coordinator `index`, then a new one on its port after `pause`; returns once it is ready.
    func killAndRestartCoordinator(_ index: Int, pause: Duration) async throws {
        let old = coordinators[index]
        old.kill9()
        try await Task.sleep(for: pause)
        let port = Int(old.baseURL.split(separator: ":").last ?? "") ?? 0
        coordinators[index] = try await CoordinatorProcess.start(
            executable: executables.coordinator, database: database, migrations: migrations,
            extra: coordinatorArguments, port: port, adminKey: old.adminKey)
    }

    /// SIGTERM to every worker, SIGKILL to those still running after `limit`.
    func stopWorkers(within limit: Duration) async {
        for pid in workers { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + limit
        var running = Set(workers)
        while !running.isEmpty && ContinuousClock.now < deadline {
            var status: Int32 = 0
            for pid in running where waitpid(pid, &status, WNOHANG) == pid { running.remove(pid) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        for pid in running { Self.kill9(pid) }
        workers = []
    }

    /// SIGTERM to every coordinator at once; how long each took to end (nil: still running at `limit`).
    func terminateCoordinators(within limit: Duration) async -> [Duration?] {
        await withTaskGroup(of: (Int, Duration?).self) { group in
            for (index, process) in coordinators.enumerated() {
                group.addTask { (index, await Task.detached { process.terminate(within: limit) }.value) }
            }
            var times = [Duration?](repeating: nil, count: coordinators.count)
            for await (index, time) in group { times[index] = time }
            return times
        }
    }

    /// Kills whatever still runs (a run that failed midway).
    func killAll() {
        for pid in workers { Self.kill9(pid) }
        for process in coordinators { process.kill9() }
        workers = []
    }

    private static func kill9(_ pid: pid_t) {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
