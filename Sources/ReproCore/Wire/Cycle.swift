import Foundation

/// Body of `POST /v1/leases/cycle`: a worker's finished results and its request for new tasks, in one
/// request the coordinator answers from one transaction (issue 16; BOINC's scheduler RPC does the same).
/// The worker's whole cycle costs one round trip and one commit instead of two.
public struct CycleRequest: Codable, Sendable {
    /// Finished results, 0 to 200 (as `POST /v1/results` takes them).
    public var results: [TaskResult]
    /// Most tasks to lease, 0 to the lease limit: 0 only reports.
    public var max: Int
    /// Seconds to wait for a task when none is queued; the results are committed before the wait.
    public var wait: Double
    /// As in ``LeaseRequest/allowNetwork``; false when missing.
    public var allowNetwork: Bool
    /// As in ``LeaseRequest/held``: the leases the worker holds, sent when an earlier answer may have been lost.
    public var held: [UUID]?

    enum CodingKeys: String, CodingKey {
        case results, max, wait, held
        case allowNetwork = "allow_network"
    }

    /// Creates a request.
    public init(results: [TaskResult], max: Int, wait: Double, allowNetwork: Bool = false, held: [UUID]? = nil) {
        self.results = results
        self.max = max
        self.wait = wait
        self.allowNetwork = allowNetwork
        self.held = held
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        results = try container.decode([TaskResult].self, forKey: .results)
        max = try container.decode(Int.self, forKey: .max)
        wait = try container.decode(Double.self, forKey: .wait)
        allowNetwork = try container.decodeIfPresent(Bool.self, forKey: .allowNetwork) ?? false
        held = try container.decodeIfPresent([UUID].self, forKey: .held)
    }
}

/// Answer to a cycle: one receipt per result (as `POST /v1/results`), and the leases with their
/// studies' shared parts (as `POST /v1/leases`).
public struct CycleResponse: Codable, Sendable {
    public var results: [ResultReceipt]
    public var lease: LeaseResponse

    enum CodingKeys: String, CodingKey { case results }

    /// Creates the answer.
    public init(results: [ResultReceipt], lease: LeaseResponse) {
        self.results = results
        self.lease = lease
    }

    /// The lease answer's members sit beside `results` in one object.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        results = try container.decode([ResultReceipt].self, forKey: .results)
        lease = try LeaseResponse(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try lease.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(results, forKey: .results)
    }
}
