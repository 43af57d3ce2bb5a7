import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ReproCore

/// One HTTP request as a fault test sees it: how it ended and how long it took. The shared client of
/// `ReproClient` hides the status of a 503 behind an error and drops headers, and these tests must
/// check both the status and `Retry-After`.
struct TimedCall: Sendable, CustomStringConvertible {
    var path: String
    /// nil when no answer came (transport error or the client's own time limit).
    var status: Int?
    var seconds: Double
    var retryAfter: String?
    var error: String?
    var body: Data

    var description: String {
        let outcome = status.map { "\($0)" } ?? "no answer (\(error ?? "?"))"
        return "\(path): \(outcome) after \(String(format: "%.2f", seconds)) s"
            + (retryAfter.map { ", Retry-After \($0)" } ?? "")
    }

    /// A client of its own: the shared one opens at most 8 connections per host, so 16 simulated
    /// workers would queue behind each other inside the client, and the test would count that as
    /// the coordinator's time.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// POSTs JSON with a bearer token; gives up after `timeout` (which the test treats as a hang).
    static func post(
        _ baseURL: String, _ path: String, token: String, json: some Encodable, timeout: Duration
    ) async -> TimedCall {
        let start = ContinuousClock.now
        func elapsed() -> Double {
            let duration = ContinuousClock.now - start
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(bytes: try WireCoding.encoder().encode(json)))
            let milliseconds = Int64(
                timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            let response = try await http.execute(request, timeout: .milliseconds(milliseconds))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            return TimedCall(
                path: path, status: Int(response.status.code), seconds: elapsed(),
                retryAfter: response.headers.first(name: "Retry-After"), error: nil, body: Data(bytes.readableBytesView)
            )
        } catch {
            return TimedCall(
                path: path, status: nil, seconds: elapsed(), retryAfter: nil, error: "\(error)", body: Data())
        }
    }

    /// The answer decoded, when it was a 200.
    func decode<T: Decodable>(_ type: T.Type) -> T? {
        guard status == 200 else { return nil }
        return try? WireCoding.decoder().decode(T.self, from: body)
    }
}
