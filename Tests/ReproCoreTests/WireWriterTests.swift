import Foundation
import ReproCore
import Testing

/// The cycle's bodies written by hand (``JSONWriter``, issue 16) are the bytes `JSONEncoder` writes for the
/// same values, so nothing reading them can tell the difference.
@Suite("Cycle bodies written by hand")
struct WireWriterTests {
    /// Text that needs every kind of escape, and some that needs none.
    static let awkward = "a\"b\\c/d\n\t\u{1}\u{1f}\u{7f}é\u{2028}😀\r\u{8}\u{c}"

    static func results() -> [TaskResult] {
        [
            TaskResult(
                taskID: 1, leaseID: UUID(), outcome: .succeeded, exitCode: 0, durationSeconds: 12.5,
                metrics: ["score": 0.5, "metric_10": 1e-7, "metric_2": 600, "Zeta": -0.0, "a_b": 0.1 + 0.2],
                error: nil, logTail: nil, fingerprint: nil, hardwareClass: "bench-cpu"),
            TaskResult(
                taskID: 9_007_199_254_740_993, leaseID: UUID(), outcome: .failed, exitCode: -9, durationSeconds: 1e21,
                metrics: [:], error: awkward, logTail: "line 1\nline 2 ✓",
                fingerprint: .object([
                    "os": .string("Debian 12"), "cpus": .number(2), "gpu": .null, "ok": .bool(true),
                    "list": .array([.number(1.5), .string(awkward), .object([:]), .array([])]),
                ]),
                hardwareClass: nil, params: ["lr": "0.1", "b": awkward]),
            TaskResult(
                taskID: 3, leaseID: UUID(), outcome: .timedOut, exitCode: nil, durationSeconds: 0,
                metrics: ["x": .leastNonzeroMagnitude],
                error: "", logTail: nil, fingerprint: .array([]), hardwareClass: "", params: [:]),
        ]
    }

    static func receipts() -> [ResultReceipt] {
        [
            ResultReceipt(taskID: 1, leaseID: UUID(), status: .accepted, taskState: .succeeded, detail: nil),
            ResultReceipt(
                taskID: 2, leaseID: UUID(), status: .recorded, taskState: .queued, detail: "already received"),
            ResultReceipt(taskID: 3, leaseID: UUID(), status: .rejected, taskState: nil, detail: awkward),
        ]
    }

    static func leases() throws -> [TaskLease] {
        var leases = try LeaseWireTests.leases()
        // Dates with a fraction (dropped), before 1970, on a leap day and at the end of a century's year.
        let dates: [Double] = [1_800_000_000.789, -86_400.5, 951_782_400, 978_307_199, 4_107_542_399, 0]
        for index in leases.indices {
            leases[index].leaseExpiresAt = Date(timeIntervalSince1970: dates[index % dates.count])
        }
        leases[1].configuration = nil
        leases[2].dataset = awkward
        // A study stored before manifests: its command travels in each lease.
        leases[4].manifest = nil
        leases[4].signature = nil
        leases[4].arguments = ["python3", awkward, ""]
        return leases
    }

    static func same(_ written: Data, _ encoded: Data) {
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: encoded, as: UTF8.self))
    }

    @Test("a cycle request, with and without held leases")
    func cycleRequest() throws {
        for held in [nil, [UUID(), UUID()], []] as [[UUID]?] {
            let request = CycleRequest(
                results: Self.results(), max: 50, wait: 25.5, allowNetwork: held == nil, held: held)
            Self.same(request.jsonData(), try WireCoding.encoder().encode(request))
        }
        let empty = CycleRequest(results: [], max: 0, wait: 0)
        Self.same(empty.jsonData(), try WireCoding.encoder().encode(empty))
    }

    @Test("a result batch")
    func resultBatch() throws {
        let batch = ResultBatch(results: Self.results())
        Self.same(batch.jsonData(), try WireCoding.encoder().encode(batch))
    }

    @Test("a cycle answer and a lease answer, one study and several, with and without manifests")
    func answers() throws {
        let leases = try Self.leases()
        for slice in [leases, Array(leases.prefix(1)), []] {
            let lease = LeaseResponse(leases: slice, heartbeatIntervalSeconds: 20)
            Self.same(try lease.jsonData(), try WireCoding.encoder().encode(lease))
            let cycle = CycleResponse(results: Self.receipts(), lease: lease)
            Self.same(try cycle.jsonData(), try WireCoding.encoder().encode(cycle))
            #expect(
                try WireCoding.decoder().decode(CycleResponse.self, from: try cycle.jsonData()).lease.leases.count
                    == slice.count)
        }
    }

    @Test("UUIDs as uuidString writes them, every digit and dash in place")
    func uuids() {
        let fixed = [
            UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
            UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)),
            UUID(uuid: (0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE)),
        ]
        for uuid in fixed + (0..<100).map({ _ in UUID() }) {
            var writer = JSONWriter()
            writer.uuid(uuid)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == "\"\(uuid.uuidString)\"")
        }
    }

    @Test("receipts")
    func receipts() throws {
        let batch = ResultBatchReceipt(results: Self.receipts())
        Self.same(batch.jsonData(), try WireCoding.encoder().encode(batch))
    }

    @Test("dates over nine centuries, Julian ones before 1582 included")
    func dates() throws {
        struct Stamp: Encodable { var t: Date }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Double(Int64.random(in: -20_000_000_000...7_000_000_000, using: &generator))
            let date = Date(timeIntervalSince1970: seconds + Double.random(in: 0..<1, using: &generator))
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("t")
            writer.date(date)
            writer.endObject()
            Self.same(writer.data, try WireCoding.encoder().encode(Stamp(t: date)))
        }
    }

    @Test("a number JSON cannot carry is written as null, as the coordinator's answers write it")
    func nonFinite() throws {
        var writer = JSONWriter()
        writer.beginArray()
        for value in [Double.nan, .infinity, -.infinity, 1] { writer.double(value) }
        writer.endArray()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "[null,null,null,1]")
    }
}
