import Foundation
import PostgresNIO
import Testing

@testable import ReproCoordinator

/// The lease runs as the plpgsql function `lease_tasks` of migration 0019, so that PostgreSQL plans it once
/// per connection (issue 16). Its statement is written twice, in the migration and as `LeaseStatement.body`
/// (the locked look and the resend share its parts in Swift): these tests hold the two equal.
@Suite("Lease function")
struct LeaseFunctionTests {
    /// Runs of whitespace as one space, so indentation is not a difference.
    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test("the function runs LeaseStatement.body, character for character, with a generic plan")
    func functionRunsTheStatement() async throws {
        try await CoordinatorHarness.run { harness in
            let rows = try await harness.database.client.query(
                "SELECT prosrc, array_to_string(proconfig, ',') FROM pg_proc WHERE proname = 'lease_tasks'")
            var found = 0
            for try await (source, config) in rows.decode((String, String?).self) {
                found += 1
                #expect(Self.normalized(source).contains(Self.normalized(LeaseStatement.body) + ";"))
                #expect(config == "plan_cache_mode=force_generic_plan")
            }
            #expect(found == 1)
            // The boundary off: a statement that differs in one condition is not found in the function.
            let changed = LeaseStatement.body.replacingOccurrences(of: "t.gpus <= $1", with: "t.gpus < $1")
            #expect(changed != LeaseStatement.body)
            let source = try await harness.database.client.query(
                "SELECT prosrc FROM pg_proc WHERE proname = 'lease_tasks'")
            for try await text in source.decode(String.self) {
                #expect(!Self.normalized(text).contains(Self.normalized(changed) + ";"))
            }
        }
    }
}
