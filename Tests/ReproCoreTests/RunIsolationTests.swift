import Foundation
import ReproCore
import Testing

/// The isolation level a worker reports in a run's fingerprint, as reports read it.
@Suite("Run isolation")
struct RunIsolationTests {
    @Test func isolationLevelsFromFingerprints() throws {
        #expect(RunIsolation(fingerprintValue: "strict") == .strict)
        #expect(RunIsolation(fingerprintValue: "none") == .unsandboxed)
        #expect(RunIsolation(fingerprintValue: nil) == .unknown)
        #expect(RunIsolation(fingerprintValue: "partial") == .unknown)
        // A level added later reads as unknown instead of failing the whole report.
        let decoded = try JSONDecoder().decode([RunIsolation].self, from: Data(#"["strict","gvisor"]"#.utf8))
        #expect(decoded == [.strict, .unknown])
        let counts = IsolationCounts([.strict, .strict, .unsandboxed, .unknown, .strict])
        #expect(counts == IsolationCounts(strict: 3, unsandboxed: 1, unknown: 1))
        let json = String(decoding: try WireCoding.encoder().encode(counts), as: UTF8.self)
        #expect(json == #"{"none":1,"strict":3,"unknown":1}"#)
        #expect(counts[.strict] == 3)
    }
}
