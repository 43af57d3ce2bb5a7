import Foundation

/// A wire type with a fast path for reading it (``JSONScanner``, issue 16): nil leaves the body to
/// `JSONDecoder`, whose answer or error is the one that counts (``WireCoding/decode(_:from:)``).
public protocol WireScannable {
    static func scanned(from data: Data) -> Self?
}

extension WireScannable {
    /// Runs `read` over the body and checks that nothing but whitespace follows the value.
    static func scan(_ data: Data, _ read: (inout JSONScanner) -> Self?) -> Self? {
        data.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            guard let value = read(&scanner), scanner.atEnd() else { return nil }
            return value
        }
    }
}

/// The members an object read so far, to give up on a repeated one (which `JSONDecoder` may read otherwise).
struct SeenMembers {
    private var bits: UInt32 = 0

    /// Marks member `index`; false when it came before.
    mutating func first(_ index: Int) -> Bool {
        let bit: UInt32 = 1 << UInt32(index)
        guard bits & bit == 0 else { return false }
        bits |= bit
        return true
    }
}

extension CycleRequest: WireScannable {
    public static func scanned(from data: Data) -> CycleRequest? {
        scan(data) { scanner in
            var results: [TaskResult]?
            var max: Int?
            var wait: Double?
            var allowNetwork = false
            var held: [UUID]?
            var seen = SeenMembers()
            let read = scanner.object { scanner, key in
                if JSONScanner.key(key, is: "results") {
                    guard seen.first(0), let value = scanner.results() else { return false }
                    results = value
                } else if JSONScanner.key(key, is: "max") {
                    guard seen.first(1), let value = scanner.int() else { return false }
                    max = value
                } else if JSONScanner.key(key, is: "wait") {
                    guard seen.first(2), let value = scanner.double() else { return false }
                    wait = value
                } else if JSONScanner.key(key, is: "allow_network") {
                    guard seen.first(3) else { return false }
                    if scanner.null() { return true }
                    guard let value = scanner.bool() else { return false }
                    allowNetwork = value
                } else if JSONScanner.key(key, is: "held") {
                    guard seen.first(4) else { return false }
                    if scanner.null() { return true }
                    guard let value = scanner.uuids() else { return false }
                    held = value
                } else {
                    return false
                }
                return true
            }
            guard read, let results, let max, let wait else { return nil }
            return CycleRequest(results: results, max: max, wait: wait, allowNetwork: allowNetwork, held: held)
        }
    }
}

extension ResultBatch: WireScannable {
    public static func scanned(from data: Data) -> ResultBatch? {
        scan(data) { scanner in
            var results: [TaskResult]?
            let read = scanner.object { scanner, key in
                guard JSONScanner.key(key, is: "results"), results == nil, let value = scanner.results() else {
                    return false
                }
                results = value
                return true
            }
            return read ? results.map(ResultBatch.init(results:)) : nil
        }
    }
}

extension CycleResponse: WireScannable {
    public static func scanned(from data: Data) -> CycleResponse? {
        scan(data) { scanner in
            var receipts: [ResultReceipt]?
            let members = scanner.leaseMembers { scanner, key in
                guard JSONScanner.key(key, is: "results"), receipts == nil, let value = scanner.receipts() else {
                    return false
                }
                receipts = value
                return true
            }
            guard let members, let receipts,
                let leases = try? LeaseResponse.leases(members.leases, shared: members.shared)
            else { return nil }
            return CycleResponse(
                results: receipts, lease: LeaseResponse(leases: leases, heartbeatIntervalSeconds: members.heartbeat))
        }
    }
}

extension LeaseResponse: WireScannable {
    public static func scanned(from data: Data) -> LeaseResponse? {
        scan(data) { scanner in
            guard let members = scanner.leaseMembers(other: { _, _ in false }),
                let leases = try? leases(members.leases, shared: members.shared)
            else { return nil }
            return LeaseResponse(leases: leases, heartbeatIntervalSeconds: members.heartbeat)
        }
    }
}

extension ResultBatchReceipt: WireScannable {
    public static func scanned(from data: Data) -> ResultBatchReceipt? {
        scan(data) { scanner in
            var receipts: [ResultReceipt]?
            let read = scanner.object { scanner, key in
                guard JSONScanner.key(key, is: "results"), receipts == nil, let value = scanner.receipts() else {
                    return false
                }
                receipts = value
                return true
            }
            return read ? receipts.map(ResultBatchReceipt.init(results:)) : nil
        }
    }
}

extension JSONScanner {
    mutating func uuids() -> [UUID]? { elements { $0.uuid() } }

    /// An optional member's value: `.some(nil)` for `null`, nil when it is neither null nor what `read` reads.
    mutating func optional<T>(_ read: (inout JSONScanner) -> T?) -> T?? {
        if null() { return .some(nil) }
        guard let value = read(&self) else { return nil }
        return .some(value)
    }

    /// An object of members of one kind (metrics, params), as `[String: Value]` decodes it.
    mutating func members<Value>(_ read: (inout JSONScanner) -> Value?) -> [String: Value]? {
        var members: [String: Value] = [:]
        let done = object { scanner, key in
            guard let name = String(validating: key, as: UTF8.self), members[name] == nil, let value = read(&scanner)
            else {
                return false
            }
            members[name] = value
            return true
        }
        return done ? members : nil
    }

    mutating func results() -> [TaskResult]? { elements { $0.result() } }

    /// One `TaskResult`, as its synthesized `Decodable` reads it: optional members may be `null`.
    mutating func result() -> TaskResult? {
        var taskID: Int64?
        var leaseID: UUID?
        var outcome: RunOutcome?
        var exitCode: Int?
        var duration: Double?
        var metrics: [String: Double]?
        var error: String?
        var logTail: String?
        var fingerprint: JSONValue?
        var hardwareClass: String?
        var params: [String: String]?
        var seen = SeenMembers()
        let read = object { scanner, key in
            if JSONScanner.key(key, is: "task_id") {
                guard seen.first(0), let value = scanner.int64() else { return false }
                taskID = value
            } else if JSONScanner.key(key, is: "lease_id") {
                guard seen.first(1), let value = scanner.uuid() else { return false }
                leaseID = value
            } else if JSONScanner.key(key, is: "outcome") {
                guard seen.first(2), let value = scanner.string().flatMap(RunOutcome.init(rawValue:)) else {
                    return false
                }
                outcome = value
            } else if JSONScanner.key(key, is: "exit_code") {
                guard seen.first(3), let value = scanner.optional({ $0.int() }) else { return false }
                exitCode = value
            } else if JSONScanner.key(key, is: "duration_seconds") {
                guard seen.first(4), let value = scanner.double() else { return false }
                duration = value
            } else if JSONScanner.key(key, is: "metrics") {
                guard seen.first(5), let value = scanner.members({ $0.double() }) else { return false }
                metrics = value
            } else if JSONScanner.key(key, is: "error") {
                guard seen.first(6), let value = scanner.optional({ $0.string() }) else { return false }
                error = value
            } else if JSONScanner.key(key, is: "log_tail") {
                guard seen.first(7), let value = scanner.optional({ $0.string() }) else { return false }
                logTail = value
            } else if JSONScanner.key(key, is: "fingerprint") {
                guard seen.first(8), let value = scanner.optional({ $0.value() }) else { return false }
                fingerprint = value
            } else if JSONScanner.key(key, is: "hardware_class") {
                guard seen.first(9), let value = scanner.optional({ $0.string() }) else { return false }
                hardwareClass = value
            } else if JSONScanner.key(key, is: "params") {
                guard seen.first(10), let value = scanner.optional({ $0.members { $0.string() } }) else { return false }
                params = value
            } else {
                return false
            }
            return true
        }
        guard read, let taskID, let leaseID, let outcome, let duration, let metrics else { return nil }
        return TaskResult(
            taskID: taskID, leaseID: leaseID, outcome: outcome, exitCode: exitCode, durationSeconds: duration,
            metrics: metrics, error: error, logTail: logTail, fingerprint: fingerprint, hardwareClass: hardwareClass,
            params: params)
    }

    mutating func receipts() -> [ResultReceipt]? { elements { $0.receipt() } }

    /// One `ResultReceipt`, as its synthesized `Decodable` reads it.
    mutating func receipt() -> ResultReceipt? {
        var taskID: Int64?
        var leaseID: UUID?
        var status: ResultReceipt.Status?
        var state: TaskState?
        var detail: String?
        var seen = SeenMembers()
        let read = object { scanner, key in
            if JSONScanner.key(key, is: "task_id") {
                guard seen.first(0), let value = scanner.int64() else { return false }
                taskID = value
            } else if JSONScanner.key(key, is: "lease_id") {
                guard seen.first(1), let value = scanner.uuid() else { return false }
                leaseID = value
            } else if JSONScanner.key(key, is: "status") {
                guard seen.first(2), let value = scanner.string().flatMap(ResultReceipt.Status.init(rawValue:)) else {
                    return false
                }
                status = value
            } else if JSONScanner.key(key, is: "task_state") {
                guard seen.first(3), let value = scanner.optional({ $0.string().flatMap(TaskState.init(rawValue:)) })
                else { return false }
                state = value
            } else if JSONScanner.key(key, is: "detail") {
                guard seen.first(4), let value = scanner.optional({ $0.string() }) else { return false }
                detail = value
            } else {
                return false
            }
            return true
        }
        guard read, let taskID, let leaseID, let status else { return nil }
        return ResultReceipt(taskID: taskID, leaseID: leaseID, status: status, taskState: state, detail: detail)
    }

    /// The members of a lease answer (and `other` members, a cycle's `results`): leases in their wire form,
    /// the studies' shared parts (read by `JSONDecoder`: once per study, not per task).
    mutating func leaseMembers(other: (inout JSONScanner, UnsafeRawBufferPointer) -> Bool)
        -> (heartbeat: Double, leases: [LeaseResponse.WireLease], shared: [LeaseResponse.StudyJob])?
    {
        var heartbeat: Double?
        var leases: [LeaseResponse.WireLease]?
        var shared: [LeaseResponse.StudyJob] = []
        var seen = SeenMembers()
        let read = object { scanner, key in
            if JSONScanner.key(key, is: "heartbeat_interval_seconds") {
                guard seen.first(0), let value = scanner.double() else { return false }
                heartbeat = value
            } else if JSONScanner.key(key, is: "leases") {
                guard seen.first(1), let value = scanner.wireLeases() else { return false }
                leases = value
            } else if JSONScanner.key(key, is: "studies") {
                guard seen.first(2) else { return false }
                if scanner.null() { return true }
                guard let raw = scanner.rawValue().map({ Data($0) }),
                    let value = try? LeaseResponse.sharedDecodings.value(
                        for: raw, make: { try WireCoding.decoder().decode([LeaseResponse.StudyJob].self, from: raw) })
                else { return false }
                shared = value
            } else {
                return other(&scanner, key)
            }
            return true
        }
        guard read, let heartbeat, let leases else { return nil }
        return (heartbeat, leases, shared)
    }

    /// Leases in their current wire form; one carrying its job, manifest or signature (the older form) is
    /// left to `JSONDecoder`.
    mutating func wireLeases() -> [LeaseResponse.WireLease]? { elements { $0.wireLease() } }

    mutating func wireLease() -> LeaseResponse.WireLease? {
        var taskID: Int64?
        var leaseID: UUID?
        var studyID: UUID?
        var dataset: String?
        var seed: Int64?
        var configuration: String?
        var replica: Int?
        var attempt: Int?
        var arguments: [String]?
        var expires: Date?
        var seen = SeenMembers()
        let read = object { scanner, key in
            if JSONScanner.key(key, is: "task_id") {
                guard seen.first(0), let value = scanner.int64() else { return false }
                taskID = value
            } else if JSONScanner.key(key, is: "lease_id") {
                guard seen.first(1), let value = scanner.uuid() else { return false }
                leaseID = value
            } else if JSONScanner.key(key, is: "study_id") {
                guard seen.first(2), let value = scanner.uuid() else { return false }
                studyID = value
            } else if JSONScanner.key(key, is: "dataset") {
                guard seen.first(3), let value = scanner.string() else { return false }
                dataset = value
            } else if JSONScanner.key(key, is: "seed") {
                guard seen.first(4), let value = scanner.int64() else { return false }
                seed = value
            } else if JSONScanner.key(key, is: "configuration") {
                guard seen.first(5), let value = scanner.optional({ $0.string() }) else { return false }
                configuration = value
            } else if JSONScanner.key(key, is: "replica") {
                guard seen.first(6), let value = scanner.int() else { return false }
                replica = value
            } else if JSONScanner.key(key, is: "attempt") {
                guard seen.first(7), let value = scanner.int() else { return false }
                attempt = value
            } else if JSONScanner.key(key, is: "arguments") {
                guard seen.first(8), let value = scanner.optional({ $0.strings() }) else { return false }
                arguments = value
            } else if JSONScanner.key(key, is: "lease_expires_at") {
                guard seen.first(9), let value = scanner.date() else { return false }
                expires = value
            } else {
                return false
            }
            return true
        }
        guard read, let taskID, let leaseID, let studyID, let dataset, let seed, let replica, let attempt,
            let expires
        else { return nil }
        return LeaseResponse.WireLease(
            taskID: taskID, leaseID: leaseID, studyID: studyID, dataset: dataset, seed: seed,
            configuration: configuration, replica: replica, attempt: attempt, arguments: arguments, job: nil,
            leaseExpiresAt: expires, manifest: nil, signature: nil)
    }

    mutating func strings() -> [String]? { elements { $0.string() } }
}
