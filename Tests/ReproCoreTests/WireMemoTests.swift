import Foundation
import Testing

@testable import ReproCore

/// The cycle keeps a study's decoded and encoded job from one batch to the next (``WireMemo``, issue 16).
/// Keyed by the whole value, never by the study id alone: a job that changes under the same study is
/// written and read afresh, never answered from the memo.
@Suite("Wire memo")
struct WireMemoTests {
    @Test("a study whose job changed is written with its new job, byte for byte what the encoder writes")
    func changedJobIsWrittenAnew() throws {
        var leases = try LeaseWireTests.leases()
        let first = LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20)
        WireWriterTests.same(try first.jsonData(), try WireCoding.encoder().encode(first))
        for index in leases.indices { leases[index].job.timeoutSeconds += 1_000_000 }
        let changed = LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20)
        let written = try changed.jsonData()
        WireWriterTests.same(written, try WireCoding.encoder().encode(changed))
        #expect(written != (try first.jsonData()))
        #expect(LeaseResponse.wireBytes(of: leases) != LeaseResponse.wireBytes(of: first.leases))
    }

    @Test("a worker reading the same study with a changed job gets the changed job")
    func changedJobIsReadAnew() throws {
        var leases = try LeaseWireTests.leases()
        let before = try #require(LeaseResponse.scanned(from: try LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20).jsonData()))
        #expect(before.leases == leases)
        for index in leases.indices { leases[index].job.timeoutSeconds += 1_000_000 }
        let after = try #require(LeaseResponse.scanned(from: try LeaseResponse(leases: leases, heartbeatIntervalSeconds: 20).jsonData()))
        #expect(after.leases == leases)
        #expect(after.leases.map(\.job) != before.leases.map(\.job))
    }

    @Test("kept once per key, and never more than its capacity")
    func bounded() {
        let memo = WireMemo<String, Int>(capacity: 2)
        var made = 0
        func value(_ key: String) -> Int { memo.value(for: key) { made += 1; return key.count } }
        #expect(value("a") == 1)
        #expect(value("a") == 1)
        #expect(made == 1)
        #expect(value("bb") == 2)
        #expect(value("ccc") == 3)
        #expect(memo.count <= 2)
        #expect(made == 3)
    }
}
