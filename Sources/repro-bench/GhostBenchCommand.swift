import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ReproClient
import ReproCoordinator
import ReproCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `repro-bench ghost`: how fast a task reaches the one live poller among pollers whose workers died
/// while waiting (issue 10, part 2).
struct GhostBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghost",
        abstract: "Time from submission to the live poller while dead pollers wait beside it.",
        discussion: """
            Starts the coordinator as its own process (--coordinator, a release build). Each round, --dead \
            workers open a long-poll over a raw socket and close the socket while it waits; then one live worker \
            long-polls, and a one-task study is submitted. Prints how long the task took to reach the live \
            poller and who holds it.
            """)

    @OptionGroup var spawned: SpawnedCoordinatorOptions

    @Option(help: "Dead pollers per round (default 10).")
    var dead = 10

    @Option(help: "Rounds (default 20).")
    var rounds = 20

    func run() async throws {
        try await spawned.run { process, database, logger in
            try await measure(process: process, database: database, logger: logger)
        }
    }

    private func measure(process: CoordinatorProcess, database: BenchDatabase, logger: Logger) async throws {
        print(
            "== ghost leases: \(dead) dead pollers and 1 live poller, \(rounds) rounds, coordinator pid \(process.pid)")
        let port = Int(process.baseURL.split(separator: ":").last ?? "") ?? 0
        let admin = CoordinatorClient(baseURL: process.baseURL, key: process.adminKey)
        let researcher = CoordinatorClient(
            baseURL: process.baseURL,
            key: try await admin.createAccount(name: "ghost-researcher", roles: [.researcher]).key)
        let archive =
            Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]) + Data(repeating: 0, count: 20)
        let bundle = "sha256:" + (try await researcher.uploadBundle(archive)).sha256
        let tokens = try await BulkWorkers.create(count: rounds * (dead + 1), database: database.url, logger: logger)
        let client = PostgresClient(configuration: try database.url.configuration(), backgroundLogger: logger)
        let runner = Task { await client.run() }
        defer { runner.cancel() }

        var fromRequest: [Double] = []
        var fromAnswer: [Double] = []
        var misplaced = 0
        for round in 0..<rounds {
            let roundTokens = Array(tokens[(round * (dead + 1))..<((round + 1) * (dead + 1))])
            // The dead: each sends its long-poll and closes its socket while the coordinator waits on it.
            var sockets: [Int32] = []
            for token in roundTokens.dropLast() {
                sockets.append(try RawPoll.start(port: port, token: token, wait: 25))
            }
            try await Task.sleep(for: .milliseconds(300))
            for socket in sockets { close(socket) }
            try await Task.sleep(for: .milliseconds(300))
            // The live one.
            let live = CoordinatorClient(baseURL: process.baseURL, key: roundTokens.last!)
            let poll = Task { try await live.lease(max: 1, wait: 25) }
            try await Task.sleep(for: .milliseconds(300))
            let requested = ContinuousClock.now
            _ = try await researcher.send(
                .POST, "/v1/studies", body: Data(Self.spec(bundle: bundle, round: round).utf8),
                contentType: "application/yaml")
            let answered = ContinuousClock.now
            let leases = try await poll.value.leases
            let arrived = ContinuousClock.now
            fromRequest.append(Self.milliseconds(arrived - requested))
            fromAnswer.append(Self.milliseconds(arrived - answered))
            if leases.count != 1 { misplaced += 1 }
        }
        let holders = try await client.query(
            "SELECT count(*) FILTER (WHERE attempts = 1 AND state = 'leased'), count(*) FROM tasks", logger: logger)
        for try await (leasedOnce, total) in holders.decode((Int, Int).self) {
            print(
                "tasks leased once to the live poller: \(leasedOnce) of \(total); rounds where the live poller got nothing: \(misplaced)"
            )
        }
        func summary(_ values: [Double]) -> String {
            let sorted = values.sorted()
            return "p50 \(Format.fixed(sorted[sorted.count / 2], 1)) ms, max \(Format.fixed(sorted.last ?? 0, 1)) ms"
        }
        print("submission sent → task at the live poller: \(summary(fromRequest))")
        print("submission answered → task at the live poller: \(summary(fromAnswer))")
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func spec(bundle: String, round: Int) -> String {
        """
        preprint: {id: "arXiv:2401.0\(String(format: "%04d", round))", title: "Ghost lease benchmark"}
        code: {bundle: "\(bundle)"}
        run:
          command: ["python3", "train.py", "--seed", "{seed}", "--dataset", "{dataset}"]
          timeout: 5m
          resources: {cpus: 1, memory: 1GiB, gpus: 0}
        matrix:
          seeds: {from: 0, count: 1}
          datasets: [ghost\(round)]
        """
    }
}

/// A long-poll sent over a bare socket, so the benchmark can close the socket whenever it likes, as a
/// killed worker's kernel does.
enum RawPoll {
    /// Connects to 127.0.0.1:`port`, sends a lease request, and returns the open socket.
    static func start(port: Int, token: String, wait: Double) throws -> Int32 {
        let body = "{\"max\":1,\"wait\":\(wait)}"
        return try connectAndSend(
            port: port,
            request: "POST /v1/leases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }

    /// Connects to 127.0.0.1:`port`, sends `request` as is, and returns the open socket.
    static func connectAndSend(port: Int, request: String) throws -> Int32 {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw BenchError("cannot open a socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw BenchError("cannot connect to 127.0.0.1:\(port)")
        }
        let sent = request.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, 0) }
        guard sent == request.utf8.count else {
            close(fd)
            throw BenchError("could not send the request")
        }
        return fd
    }
}
