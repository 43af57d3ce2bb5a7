import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ReproCoordinator
import ReproCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `repro-bench idle`: what idle long-polling workers cost (issue 10, part 4): database transactions
/// per second and the coordinator's memory, with every worker waiting on a long-poll that nothing wakes.
struct IdleBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Measure commits/s and coordinator memory with many idle long-polling workers.",
        discussion: """
            Starts the coordinator as its own process (--coordinator, a release build) over a fresh database, \
            writes --workers registered workers straight into the database, measures the commits of the \
            background services alone, then opens one connection per worker and keeps a long-poll of --wait \
            seconds open on each (nothing is ever queued), and measures commits/s and the coordinator's \
            resident memory over --measure-seconds after a warm-up of one wait.
            """)

    @OptionGroup var spawned: SpawnedCoordinatorOptions

    @Option(help: "Idle workers, one connection and one long-poll each (default 10000).")
    var workers = 10_000

    @Option(help: "Seconds each long-poll waits (default 20, the worker's default).")
    var wait = 20.0

    @Option(help: "Workers started per second (default 1000).")
    var ramp = 1000

    @Option(help: "Seconds the background services are measured alone (default 20).")
    var baselineSeconds = 20

    @Option(help: "Seconds measured with every worker waiting (default 60).")
    var measureSeconds = 60

    @Flag(
        help:
            "Hold the connections open without a request (one /healthz each), to split memory per connection from memory per waiting request."
    )
    var connectionsOnly = false

    func validate() throws {
        guard workers >= 1, wait > 0, wait <= 30, ramp >= 1, baselineSeconds >= 1, measureSeconds >= 1 else {
            throw ValidationError("workers, ramp and durations must be positive; wait at most 30 s.")
        }
    }

    func run() async throws {
        try await spawned.run { process, database, logger in
            var http = HTTPClient.Configuration()
            // One connection per worker, as separate machines would have.
            http.connectionPool = .init(
                idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: workers + 16)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
            do {
                try await measure(process: process, database: database, http: client, logger: logger)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    private func measure(process: CoordinatorProcess, database: BenchDatabase, http: HTTPClient, logger: Logger)
        async throws
    {
        print("== idle long-polls: \(workers) workers, wait \(Format.fixed(wait, 0)) s, coordinator pid \(process.pid)")
        let tokens = try await BulkWorkers.create(count: workers, database: database.url, logger: logger)

        // The background services alone (reaper, score maintainer, LISTEN, key confirmation).
        try await Task.sleep(for: .seconds(3))
        let idleMemory = try process.memory()
        let baseline = try await commitsPerSecond(database: database, over: baselineSeconds)
        print(
            "background services alone: \(Format.fixed(baseline, 2)) commits/s, coordinator RSS \(idleMemory.resident / 1024) MiB"
        )

        let polls = PollCounter()
        let pollers = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, token) in tokens.enumerated() {
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(index * 1000 / ramp))
                        if connectionsOnly {
                            await holdConnection(process.baseURL, http: http, counter: polls)
                        } else {
                            await poll(process.baseURL, token: token, http: http, counter: polls)
                        }
                    }
                }
            }
        }
        // Every worker started, then one whole wait, so each has finished a poll and is in its next.
        try await Task.sleep(for: .milliseconds(workers * 1000 / ramp) + .milliseconds(Int(wait * 1000)) + .seconds(5))
        let pollsBefore = polls.completed
        let withWorkers = try await commitsPerSecond(database: database, over: measureSeconds)
        let pollsDuring = polls.completed - pollsBefore
        let memory = try process.memory()
        pollers.cancel()
        await pollers.value

        let pollRate = Double(pollsDuring) / Double(measureSeconds)
        let extra = max(0, withWorkers - baseline)
        print("with \(workers) idle workers: \(Format.fixed(withWorkers, 2)) commits/s")
        print(
            "  polls ended: \(Format.fixed(pollRate, 1))/s (\(pollsDuring) in \(measureSeconds) s); failed requests: \(polls.failed)"
        )
        if polls.failed > 0 { print("  failures: \(polls.failureKinds)") }
        print("  commits per poll above the background: \(Format.fixed(pollRate > 0 ? extra / pollRate : 0, 3))")
        print(
            "  coordinator RSS \(memory.resident / 1024) MiB (peak \(memory.peak / 1024) MiB), "
                + "\(Format.fixed(Double(memory.resident - idleMemory.resident) / Double(workers), 1)) KiB per \(connectionsOnly ? "idle connection" : "waiting request")"
        )
    }

    /// Commits per second of the database under test over `seconds` (counters flush within ~1 s).
    private func commitsPerSecond(database: BenchDatabase, over seconds: Int) async throws -> Double {
        let before = try await database.committedTransactions()
        try await Task.sleep(for: .seconds(seconds))
        let after = try await database.committedTransactions()
        return Double(after - before) / Double(seconds)
    }

    /// One connection that made one request (its answer is never read) and then stays open and idle,
    /// over a bare socket: the HTTP client would reuse one idle connection for all of them.
    private func holdConnection(_ baseURL: String, http: HTTPClient, counter: PollCounter) async {
        let port = Int(baseURL.split(separator: ":").last ?? "") ?? 0
        do {
            let socket = try RawPoll.connectAndSend(
                port: port, request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            counter.completedOne()
            try? await Task.sleep(for: .seconds(3600))
            close(socket)
        } catch {
            counter.failedOne(error)
        }
    }

    /// One idle worker: long-polls back to back until cancelled.
    private func poll(_ baseURL: String, token: String, http: HTTPClient, counter: PollCounter) async {
        var request = HTTPClientRequest(url: baseURL + "/v1/leases")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = (try? WireCoding.encoder().encode(LeaseRequest(max: 1, wait: wait))) ?? Data()
        request.body = .bytes(ByteBuffer(bytes: body))
        while !Task.isCancelled {
            do {
                let response = try await http.execute(request, timeout: .seconds(Int64(wait) + 30))
                _ = try await response.body.collect(upTo: 1 << 20)
                if response.status == .ok {
                    counter.completedOne()
                } else {
                    counter.failedOne("HTTP \(response.status.code)")
                }
            } catch {
                if Task.isCancelled { return }
                counter.failedOne(error)
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Polls ended, and failures by kind, shared by every simulated worker.
final class PollCounter: Sendable {
    private let ended = Atomic<Int>(0)
    private let failures = Mutex<[String: Int]>([:])

    var completed: Int { ended.load(ordering: .relaxed) }
    var failed: Int { failures.withLock { $0.values.reduce(0, +) } }
    /// Failures by kind, most frequent first.
    var failureKinds: String {
        failures.withLock { $0 }.sorted { $0.value > $1.value }.map { "\($0.value) × \($0.key)" }
            .joined(separator: "; ")
    }

    func completedOne() { ended.add(1, ordering: .relaxed) }
    func failedOne(_ error: any Error) { failedOne(String(String(describing: error).prefix(120))) }
    func failedOne(_ kind: String) { failures.withLock { $0[kind, default: 0] += 1 } }
}
