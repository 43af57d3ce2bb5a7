import Foundation

// The bodies of the worker's cycle written with ``JSONWriter`` (issue 16): the same bytes as
// ``WireCoding/encoder()`` gives for these values, without `Codable`'s cost per task. Members go in sorted
// key order, as that encoder sorts them; nil members are left out, as it leaves them out.

extension CycleRequest {
    /// The request's JSON, as ``WireCoding/encoder()`` writes it.
    public func jsonData() -> Data {
        var writer = JSONWriter(capacity: 256 + results.count * 256)
        writer.beginObject()
        writer.key("allow_network")
        writer.bool(allowNetwork)
        if let held {
            writer.key("held")
            writer.beginArray()
            for lease in held { writer.uuid(lease) }
            writer.endArray()
        }
        writer.key("max")
        writer.int(max)
        writer.key("results")
        writer.results(results)
        writer.key("wait")
        writer.double(wait)
        writer.endObject()
        return writer.data
    }
}

extension ResultBatch {
    /// The batch's JSON, as ``WireCoding/encoder()`` writes it.
    public func jsonData() -> Data {
        var writer = JSONWriter(capacity: 64 + results.count * 256)
        writer.beginObject()
        writer.key("results")
        writer.results(results)
        writer.endObject()
        return writer.data
    }
}

extension CycleResponse {
    /// The answer's JSON, as ``WireCoding/encoder()`` writes it: the lease answer's members and `results`.
    public func jsonData() throws -> Data {
        var writer = JSONWriter(capacity: 1024 + lease.leases.count * 320)
        writer.beginObject()
        try lease.writeMembers(to: &writer, results: results)
        writer.endObject()
        return writer.data
    }
}

extension LeaseResponse {
    /// The answer's JSON, as ``WireCoding/encoder()`` writes it.
    public func jsonData() throws -> Data {
        var writer = JSONWriter(capacity: 1024 + leases.count * 256)
        writer.beginObject()
        try writeMembers(to: &writer, results: nil)
        writer.endObject()
        return writer.data
    }

    /// The members of ``encode(to:)``, and a cycle's `results` among them (its keys sort between `leases`
    /// and `studies`).
    func writeMembers(to writer: inout JSONWriter, results: [ResultReceipt]?) throws {
        writer.key("heartbeat_interval_seconds")
        writer.double(heartbeatIntervalSeconds)
        writer.key("leases")
        writer.beginArray()
        for lease in leases {
            writer.beginObject()
            if lease.manifest == nil {
                writer.key("arguments")
                writer.beginArray()
                for argument in lease.arguments { writer.string(argument) }
                writer.endArray()
            }
            writer.key("attempt")
            writer.int(lease.attempt)
            if let configuration = lease.configuration {
                writer.key("configuration")
                writer.string(configuration)
            }
            writer.key("dataset")
            writer.string(lease.dataset)
            writer.key("lease_expires_at")
            writer.date(lease.leaseExpiresAt)
            writer.key("lease_id")
            writer.uuid(lease.leaseID)
            writer.key("replica")
            writer.int(lease.replica)
            writer.key("seed")
            writer.int(lease.seed)
            writer.key("study_id")
            writer.uuid(lease.studyID)
            writer.key("task_id")
            writer.int(lease.taskID)
            writer.endObject()
        }
        writer.endArray()
        if let results {
            writer.key("results")
            writer.receipts(results)
        }
        writer.key("studies")
        // Once per study in the answer, not per task, and kept from the last answer of the same study.
        writer.beginArray()
        for shared in Self.studies(of: leases) { writer.encodedBytes(try Self.encoded(shared)) }
        writer.endArray()
    }
}

extension ResultBatchReceipt {
    /// The answer's JSON, as ``WireCoding/encoder()`` writes it.
    public func jsonData() -> Data {
        var writer = JSONWriter(capacity: 64 + results.count * 160)
        writer.beginObject()
        writer.key("results")
        writer.receipts(results)
        writer.endObject()
        return writer.data
    }
}

extension JSONWriter {
    /// An array of results, each as `TaskResult`'s `Codable` form.
    mutating func results(_ results: [TaskResult]) {
        beginArray()
        for result in results {
            beginObject()
            key("duration_seconds")
            double(result.durationSeconds)
            if let error = result.error {
                key("error")
                string(error)
            }
            if let exitCode = result.exitCode {
                key("exit_code")
                int(exitCode)
            }
            if let fingerprint = result.fingerprint {
                key("fingerprint")
                value(fingerprint)
            }
            if let hardwareClass = result.hardwareClass {
                key("hardware_class")
                string(hardwareClass)
            }
            key("lease_id")
            uuid(result.leaseID)
            if let logTail = result.logTail {
                key("log_tail")
                string(logTail)
            }
            key("metrics")
            object(result.metrics) { $0.double($1) }
            key("outcome")
            string(result.outcome.rawValue)
            if let params = result.params {
                key("params")
                object(params) { $0.string($1) }
            }
            key("task_id")
            int(result.taskID)
            endObject()
        }
        endArray()
    }

    /// An array of receipts, each as `ResultReceipt`'s `Codable` form.
    mutating func receipts(_ receipts: [ResultReceipt]) {
        beginArray()
        for receipt in receipts {
            beginObject()
            if let detail = receipt.detail {
                key("detail")
                string(detail)
            }
            key("lease_id")
            uuid(receipt.leaseID)
            key("status")
            string(receipt.status.rawValue)
            key("task_id")
            int(receipt.taskID)
            if let state = receipt.taskState {
                key("task_state")
                string(state.rawValue)
            }
            endObject()
        }
        endArray()
    }

    /// Any JSON value (a fingerprint), objects in sorted key order.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let number): double(number)
        case .string(let text): string(text)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members): object(members) { $0.value($1) }
        }
    }
}
