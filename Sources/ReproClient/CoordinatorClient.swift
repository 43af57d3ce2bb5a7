import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ReproCore

/// A failed call to the coordinator: either its problem document or a transport failure.
public enum CoordinatorClientError: Error, CustomStringConvertible {
    /// The coordinator answered with a problem document.
    case problem(ProblemDetails)
    /// The coordinator could not be reached or answered something unreadable.
    case transport(String)

    /// A message for people, with what to do next.
    public var description: String {
        switch self {
        case .problem(let problem): return problem.description
        case .transport(let message): return message
        }
    }

    /// HTTP status of a problem; nil for transport errors.
    public var status: Int? {
        if case .problem(let problem) = self { return problem.status }
        return nil
    }

    /// True when retrying later may succeed (unreachable, 5xx, 429).
    public var isRetryable: Bool {
        switch self {
        case .transport: return true
        case .problem(let problem): return problem.status >= 500 || problem.status == 429
        }
    }
}

/// The coordinator's HTTP API as Swift calls, used by `repro` and `repro-worker`.
public struct CoordinatorClient: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    public let baseURL: String
    /// API key or worker token sent as a bearer token.
    public var key: String?
    let http: HTTPClient

    /// Creates a client; `http` defaults to the shared AsyncHTTPClient.
    public init(baseURL: String, key: String?, http: HTTPClient = .shared) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key
        self.http = http
    }

    /// Sends a request and returns the body of a 2xx answer; anything else throws.
    public func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
        accept: String = "application/json", timeout: TimeAmount = .seconds(60)
    ) async throws -> Data {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw CoordinatorClientError.transport(
                "could not reach the coordinator at \(baseURL) (\(error)); check that it runs and the URL is right")
        }
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(Int(response.status.code)) else {
            if let problem = try? WireCoding.decoder().decode(ProblemDetails.self, from: data) {
                throw CoordinatorClientError.problem(problem)
            }
            throw CoordinatorClientError.problem(
                ProblemDetails(
                    slug: "http-\(response.status.code)", title: response.status.reasonPhrase,
                    status: Int(response.status.code), detail: String(decoding: data.prefix(500), as: UTF8.self)))
        }
        return data
    }

    /// Sends JSON and decodes a JSON answer.
    public func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, json: (some Encodable)? = Optional<String>.none,
        as type: Answer.Type = Answer.self, timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        let body = try json.map { try WireCoding.encoder().encode($0) }
        return try await call(method, path, body: body, as: type, timeout: timeout)
    }

    /// Sends a JSON body already encoded (``JSONWriter``, on the worker's cycle) and decodes a JSON answer.
    public func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Data?, as type: Answer.Type = Answer.self,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Answer {
        let data = try await send(method, path, body: body, timeout: timeout)
        do {
            return try WireCoding.decode(Answer.self, from: data)
        } catch {
            throw CoordinatorClientError.transport("the coordinator's answer to \(path) could not be read: \(error)")
        }
    }
}

extension CoordinatorClient {
    /// Uploads a gzipped tar of code; returns its content address.
    public func uploadBundle(_ archive: Data) async throws -> BundleUploaded {
        let data = try await send(.POST, "/v1/bundles", body: archive, contentType: "application/gzip", timeout: .minutes(5))
        return try WireCoding.decoder().decode(BundleUploaded.self, from: data)
    }

    /// Downloads a bundle by its sha256.
    public func downloadBundle(sha256: String) async throws -> Data {
        try await send(.GET, "/v1/bundles/\(sha256)", accept: "application/gzip", timeout: .minutes(5))
    }

    /// Submits a study spec (JSON). An identical spec this account already submitted returns that
    /// study (`existing`) unless `allowDuplicate`.
    public func submitStudy(specJSON: Data, allowDuplicate: Bool = false) async throws -> StudyCreated {
        let data = try await send(.POST, allowDuplicate ? "/v1/studies?new=true" : "/v1/studies", body: specJSON)
        return try WireCoding.decoder().decode(StudyCreated.self, from: data)
    }

    /// A study's state and progress.
    public func study(_ id: UUID) async throws -> StudyStatus {
        try await call(.GET, "/v1/studies/\(id)")
    }

    /// Cancels a study.
    public func cancelStudy(_ id: UUID) async throws -> StudyStatus {
        try await call(.POST, "/v1/studies/\(id)/cancel")
    }

    /// Every run of a study.
    public func runs(_ id: UUID) async throws -> [RunRecord] {
        try await call(.GET, "/v1/studies/\(id)/runs", as: RunList.self).runs
    }

    /// Creates an account (admin only).
    public func createAccount(name: String, roles: [Role]) async throws -> AccountCreated {
        try await call(.POST, "/v1/accounts", json: AccountCreateRequest(name: name, roles: roles))
    }

    /// Registers a worker with a volunteer key; the answer carries the worker's own token.
    public func registerWorker(_ registration: WorkerRegistration) async throws -> WorkerRegistered {
        try await call(.POST, "/v1/workers", json: registration)
    }

    /// Leases up to `max` tasks, waiting up to `wait` seconds. Tasks of studies that need the network
    /// come only when `allowNetwork` (the volunteer's `--allow-network`).
    public func lease(max: Int, wait: Double, allowNetwork: Bool = false, held: [UUID]? = nil) async throws
        -> LeaseResponse
    {
        try await call(
            .POST, "/v1/leases", json: LeaseRequest(max: max, wait: wait, allowNetwork: allowNetwork, held: held),
            timeout: .seconds(Int64(wait) + 30))
    }

    /// Sends finished results and leases up to `max` new tasks in one request (`POST /v1/leases/cycle`).
    public func cycle(
        results: [TaskResult], max: Int, wait: Double, allowNetwork: Bool = false, held: [UUID]? = nil
    ) async throws -> CycleResponse {
        try await call(
            .POST, "/v1/leases/cycle",
            body: CycleRequest(results: results, max: max, wait: wait, allowNetwork: allowNetwork, held: held)
                .jsonData(),
            timeout: .seconds(Int64(wait) + 30))
    }

    /// Heartbeats all running leases.
    public func heartbeat(_ beats: [HeartbeatRequest.Beat]) async throws -> HeartbeatResponse {
        try await call(.POST, "/v1/leases/heartbeat", json: HeartbeatRequest(leases: beats))
    }

    /// Sends results; one receipt each.
    public func submitResults(_ results: [TaskResult]) async throws -> [ResultReceipt] {
        let answer = try await call(
            .POST, "/v1/results", body: ResultBatch(results: results).jsonData(), as: ResultBatchReceipt.self)
        return answer.results
    }
}

extension CoordinatorClient {
    /// The report document of a study, as JSON bytes.
    public func reportData(_ id: UUID) async throws -> Data {
        try await send(.GET, "/v1/studies/\(id)/report")
    }

    /// The dashboard's study page as one self-contained HTML document (inline CSS and SVG, no script).
    public func standaloneStudyPage(_ id: UUID) async throws -> Data {
        try await send(.GET, "/studies/\(id.uuidString.lowercased())?standalone=true", accept: "text/html")
    }

    /// The score document of a preprint, as JSON bytes.
    public func scoreData(_ preprint: String) async throws -> Data {
        try await send(.GET, "/v1/preprints/\(Self.segment(preprint))/score")
    }
}
