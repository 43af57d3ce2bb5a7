import Testing

/// The harness's hang report must fire, or a stuck test would again hold CI silently.
@Suite("Hang watch")
struct HangWatchTests {
    @Test("a phase that outlives its limit is recorded as an issue naming it; a finished one is not")
    func reportsStuckPhase() async throws {
        try await withKnownIssue {
            let watch = HangWatch("sleeper", limit: .milliseconds(100))
            watch.enter("sleeping")
            // However slow the machine, "stuck" lasts until the report is made.
            while !watch.hasReported { try await Task.sleep(for: .milliseconds(50)) }
            watch.finish()
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("phase 'sleeping'") }
        }
        let finished = HangWatch("quick", limit: .milliseconds(100))
        finished.finish()
        try await Task.sleep(for: .milliseconds(500))
        #expect(!finished.hasReported)
    }
}
