import Foundation
import ReproCore
import Testing

/// The cycle's fast reader (``JSONScanner``, issue 16) reads what `JSONDecoder` reads, and leaves to it
/// whatever it is not sure of: on any body, mutated at random or written by hand, it either gives up or
/// gives the decoder's own answer.
@Suite("Cycle bodies read by the fast path")
struct JSONScannerTests {
    static func sameRequest(_ a: CycleRequest, _ b: CycleRequest) -> Bool { a.jsonData() == b.jsonData() }

    static func sameResponse(_ a: CycleResponse, _ b: CycleResponse) -> Bool {
        a.results == b.results && a.lease.leases == b.lease.leases
            && a.lease.heartbeatIntervalSeconds == b.lease.heartbeatIntervalSeconds
    }

    static func requestBodies() throws -> [Data] {
        let results = WireWriterTests.results()
        var bodies = [
            CycleRequest(results: results, max: 50, wait: 1, allowNetwork: true, held: [UUID()]).jsonData(),
            try WireCoding.encoder().encode(CycleRequest(results: Array(results.prefix(1)), max: 10, wait: 0)),
        ]
        let lease = UUID().uuidString.lowercased()
        // Written by hand: whitespace, nulls for optional members, escapes, members in another order.
        bodies.append(
            Data(
                """
                 { "wait" : 2.5e0 , "max":3, "allow_network":null, "held":null, "results":[ {"task_id":7,
                 "lease_id":"\(lease)","outcome":"failed","exit_code":null,"duration_seconds":-0,
                 "metrics":{"é":1E2,"b":-0.5e-3},"error":"tab\\there \\u00e9\\ud83d\\ude00 \\/ \\"q\\"","log_tail":null,
                 "fingerprint":{"a":[1,true,null,"x",{"b":{}}],"n":12345678901234567890},"hardware_class":null,
                 "params":null} ] }
                """.utf8))
        return bodies
    }

    static func responseBodies() throws -> [Data] {
        let leases = try WireWriterTests.leases()
        let receipts = WireWriterTests.receipts()
        return [
            try CycleResponse(results: receipts, lease: LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20))
                .jsonData(),
            try WireCoding.encoder().encode(
                CycleResponse(
                    results: [], lease: LeaseResponse(leases: Array(leases.prefix(2)), heartbeatIntervalSeconds: 7.5))),
        ]
    }

    @Test("what the writer writes, the fast path reads, and as JSONDecoder does")
    func roundTrip() throws {
        for body in try Self.requestBodies() {
            let fast = try #require(CycleRequest.scanned(from: body))
            #expect(Self.sameRequest(fast, try WireCoding.decoder().decode(CycleRequest.self, from: body)))
        }
        for body in try Self.responseBodies() {
            let fast = try #require(CycleResponse.scanned(from: body))
            #expect(Self.sameResponse(fast, try WireCoding.decoder().decode(CycleResponse.self, from: body)))
        }
        let batch = ResultBatch(results: WireWriterTests.results())
        #expect(ResultBatch.scanned(from: batch.jsonData())?.results == batch.results)
        let receipts = ResultBatchReceipt(results: WireWriterTests.receipts())
        #expect(ResultBatchReceipt.scanned(from: receipts.jsonData())?.results == receipts.results)
        let lease = try LeaseResponse(leases: WireWriterTests.leases(), heartbeatIntervalSeconds: 20).jsonData()
        #expect(
            LeaseResponse.scanned(from: lease)?.leases
                == (try WireCoding.decoder().decode(LeaseResponse.self, from: lease)).leases)
    }

    @Test("what it is not sure of goes to JSONDecoder, whose answer WireCoding.decode gives")
    func leftToTheDecoder() throws {
        let lease = UUID()
        let unusual = [
            // An unknown member, which JSONDecoder ignores.
            #"{"max":1,"wait":0,"results":[],"extra":{"x":[1]}}"#,
            // A repeated member.
            #"{"max":1,"max":2,"wait":0,"results":[]}"#,
            // An integer written with a fraction or an exponent.
            #"{"max":1.0,"wait":0,"results":[]}"#,
            #"{"max":1e0,"wait":0,"results":[]}"#,
            // A key with an escape.
            #"{"m\u0061x":1,"wait":0,"results":[]}"#,
            #"{"max":1,"wait":0,"results":[{"task_id":1,"lease_id":"\#(lease)","outcome":"succeeded","duration_seconds":1,"metrics":{"a\nb":1}}]}"#,
        ]
        for text in unusual {
            let body = Data(text.utf8)
            #expect(CycleRequest.scanned(from: body) == nil, "\(text)")
            let decoded = try? WireCoding.decoder().decode(CycleRequest.self, from: body)
            let through = try? WireCoding.decode(CycleRequest.self, from: body)
            #expect((decoded == nil) == (through == nil), "\(text)")
            if let decoded, let through { #expect(Self.sameRequest(decoded, through)) }
        }
        // An older lease answer, with the job in each lease, still reads.
        struct Old: Encodable {
            var leases: [TaskLease]
            var heartbeat_interval_seconds: Double
        }
        let leases = try WireWriterTests.leases()
        let old = try WireCoding.encoder().encode(Old(leases: leases, heartbeat_interval_seconds: 20))
        #expect(LeaseResponse.scanned(from: old) == nil)
        #expect(
            try WireCoding.decode(LeaseResponse.self, from: old).leases
                == WireCoding.decoder().decode(LeaseResponse.self, from: old).leases)
    }

    @Test("a body nested a million deep is refused with JSONDecoder's error, not read until the stack overflows")
    func deepNesting() throws {
        // Within the 16 MiB a cycle request may have; the scanner recurses per level, so without its depth bound
        // this test's process dies of a stack overflow instead of failing.
        let lease = UUID()
        let deep = String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000)
        let body = Data(
            #"{"max":1,"wait":0,"results":[{"task_id":1,"lease_id":"\#(lease)","outcome":"succeeded","duration_seconds":1,"metrics":{},"fingerprint":\#(deep)}]}"#
                .utf8)
        #expect(CycleRequest.scanned(from: body) == nil)
        #expect(throws: DecodingError.self) { try WireCoding.decode(CycleRequest.self, from: body) }
        // Nesting within the bound is read fast.
        let shallow =
            String(repeating: "[", count: JSONScanner.maxDepth - 3)
            + String(repeating: "]", count: JSONScanner.maxDepth - 3)
        let fine = Data(
            #"{"max":1,"wait":0,"results":[{"task_id":1,"lease_id":"\#(lease)","outcome":"succeeded","duration_seconds":1,"metrics":{},"fingerprint":\#(shallow)}]}"#
                .utf8)
        #expect(CycleRequest.scanned(from: fine) != nil)
    }

    @Test("on thousands of mutated bodies the fast path never reads what JSONDecoder refuses, nor reads it otherwise")
    func mutations() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]:,"\ 0123456789.-+eEtrufalsnl"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xFF]
        func mutate(_ body: [UInt8]) -> [UInt8] {
            var bytes = body
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                guard !bytes.isEmpty else { break }
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                case 2: bytes[at] = alphabet.randomElement(using: &generator)!
                default:
                    let end = min(bytes.count, at + Int.random(in: 1...12, using: &generator))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                }
            }
            return bytes
        }
        /// Mutates each body 3 000 times; returns how many mutants the fast path read.
        func check<T: WireScannable & Decodable>(_ bodies: [Data], same: (T, T) -> Bool) -> Int {
            var fastReads = 0
            for body in bodies {
                for _ in 0..<3000 {
                    let mutated = Data(mutate(Array(body)))
                    guard let fast = T.scanned(from: mutated) else { continue }
                    fastReads += 1
                    do {
                        let decoded = try WireCoding.decoder().decode(T.self, from: mutated)
                        #expect(same(fast, decoded), "\(String(decoding: mutated, as: UTF8.self))")
                    } catch {
                        Issue.record(
                            "read fast, refused by JSONDecoder (\(error)): \(String(decoding: mutated, as: UTF8.self))")
                    }
                }
            }
            return fastReads
        }
        let fastReads =
            check(try Self.requestBodies(), same: Self.sameRequest)
            + check(try Self.responseBodies(), same: Self.sameResponse)
        // Mutations that keep a body valid (a digit changed, a space added) are read fast: the test compares something.
        #expect(fastReads > 500)
    }
}
