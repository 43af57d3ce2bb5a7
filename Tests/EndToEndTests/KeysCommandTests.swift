import Foundation
import ReproClient
import ReproCore
import ReproTestSupport
import Testing

/// `repro accounts keys list|create|revoke|rotate` against a real coordinator process: the new secret
/// is the last line of output, the listing never shows secrets, a revoked key stops working and a
/// rotated one keeps working for its grace period.
@Suite("repro accounts keys", .serialized)
struct KeysCommandTests {
    @Test("create, list, rotate and revoke through the CLI", .timeLimit(.minutes(5)))
    func keysThroughTheCLI() async throws {
        let database = try await TestDatabase.create()
        let cluster = try Cluster(databaseURL: database.url)
        do {
            let url = try await cluster.startCoordinator()
            try await cluster.createKeys()
            let original = cluster.researcherKey

            let created = try await cluster.cli(["accounts", "keys", "create", "--label", "laptop", "--expires-in-days", "30"])
            let second = try #require(created.split(separator: "\n").last.map(String.init))
            #expect(second.hasPrefix("rg_"))
            let listed = try await cluster.cli(["accounts", "keys", "list"], key: second)
            #expect(listed.contains("laptop"))
            #expect(!listed.contains(second) && !listed.contains(original))

            let keys = try await CoordinatorClient(baseURL: url, key: second).keys()
            let first = try #require(keys.keys.first { $0.label == nil })
            let rotated = try await cluster.cli(
                ["accounts", "keys", "rotate", first.id.uuidString, "--grace-seconds", "600"], key: second)
            let third = try #require(rotated.split(separator: "\n").last.map(String.init))
            #expect(third.hasPrefix("rg_"))
            // The old key works during its grace period.
            _ = try await CoordinatorClient(baseURL: url, key: original).keys()

            _ = try await cluster.cli(["accounts", "keys", "revoke", first.id.uuidString], key: third)
            // The coordinator's auth cache holds a key for at most 10 s by default; wait past it.
            try await Task.sleep(for: .seconds(12))
            await #expect(throws: CoordinatorClientError.self) {
                _ = try await CoordinatorClient(baseURL: url, key: original).keys()
            }
            _ = try await CoordinatorClient(baseURL: url, key: third).keys()
        } catch {
            Issue.record("keys CLI run failed: \(error)\n\(cluster.dumpLogs())")
        }
        await cluster.stopAll()
        try await database.drop()
    }
}
