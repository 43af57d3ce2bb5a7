import Foundation
import HTTPTypes
import PostgresNIO
import ReproCore
import Testing

@testable import ReproCoordinator

/// Defect 10 of issue 11: the account that first describes a preprint owns its metadata. Another
/// researcher's PUT is refused, another researcher's study keeps the stored metadata and gets a
/// warning, moderators and admins may change it, and every change is recorded with who made it.
@Suite("Preprint ownership", .serialized)
struct PreprintOwnershipTests {
    static func changes(_ harness: CoordinatorHarness, _ id: String) async throws -> [(actor: UUID?, source: String)] {
        let rows = try await harness.database.client.query(
            "SELECT actor, source FROM preprint_changes WHERE preprint_id = \(id) ORDER BY id")
        var found: [(UUID?, String)] = []
        for try await (actor, source) in rows.decode((UUID?, String).self) { found.append((actor, source)) }
        return found
    }

    @Test("another researcher's PUT is 403; the owner's and a moderator's are recorded")
    func putNeedsOwnership() async throws {
        try await CoordinatorHarness.run { harness in
            let owner = try await harness.account([.researcher], name: "owner")
            let other = try await harness.key(.researcher, name: "other")
            let moderator = try await harness.account([.moderator], name: "moderator")
            try await harness.putPreprint("2401.01234", title: "Original", funding: [.init(funder: "NSF")], key: owner.key)

            let refused = try await harness.request(
                .put, "/v1/preprints/2401.01234", key: other,
                json: PreprintUpdate(title: "Hijacked", funding: [.init(funder: "Other Trust")]))
            #expect(refused.status == .forbidden)
            #expect(try CoordinatorHarness.problem(refused).detail.contains("belongs to the account that first described it"))
            let record: PreprintRecord = try await harness.call(.get, "/v1/preprints/2401.01234", key: other)
            #expect(record.title == "Original")
            #expect(record.funding.map(\.funder) == ["NSF"])

            // Sending the stored metadata unchanged is no change and is answered 200.
            let same = try await harness.request(
                .put, "/v1/preprints/2401.01234", key: other,
                json: PreprintUpdate(title: "Original", authors: ["A. Author"], institutions: ["Example University"],
                    field: "cs.LG", funding: [.init(funder: "NSF")]))
            #expect(same.status == .ok)

            try await harness.putPreprint("2401.01234", title: "Owner's fix", funding: [.init(funder: "NSF")], key: owner.key)
            try await harness.putPreprint("2401.01234", title: "Moderated", funding: [.init(funder: "NSF")], key: moderator.key)
            let changes = try await Self.changes(harness, "arXiv:2401.01234")
            #expect(changes.map(\.actor) == [owner.accountID, owner.accountID, moderator.accountID])
            #expect(changes.map(\.source) == ["put", "put", "put"])
        }
    }

    @Test("another researcher's study keeps the stored metadata and warns; the owner's study updates it")
    func studyDoesNotOverwrite() async throws {
        try await CoordinatorHarness.run { harness in
            let owner = try await harness.account([.researcher], name: "owner")
            let other = try await harness.key(.researcher, name: "other")
            try await harness.putPreprint(
                "2401.01234", title: "Stored title", funding: [.init(funder: "NSF", grant: "N-1")], key: owner.key)

            let bundle = try await harness.bundle(researcher: other)
            let created = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: other)
            let warning = try #require(created.warnings?.first)
            #expect(warning.contains("described by another account"))
            #expect(warning.contains("title"))
            let record: PreprintRecord = try await harness.call(.get, "/v1/preprints/2401.01234", key: other)
            #expect(record.title == "Stored title")
            #expect(record.funding.map(\.funder) == ["NSF"])

            let ownBundle = try await harness.bundle(researcher: owner.key)
            let own = try await harness.submit(
                CoordinatorHarness.spec(bundle: ownBundle, datasets: ["digits"], seeds: 2), key: owner.key)
            #expect(own.warnings?.first?.contains("was updated from this spec") == true)
            let updated: PreprintRecord = try await harness.call(.get, "/v1/preprints/2401.01234", key: other)
            #expect(updated.title == "Small MLPs are enough")
            let changes = try await Self.changes(harness, "arXiv:2401.01234")
            #expect(changes.map(\.source) == ["put", "study"])
            #expect(changes.allSatisfy { $0.actor == owner.accountID })
        }
    }

    @Test("the first study of a new preprint makes its submitter the owner")
    func firstStudyOwns() async throws {
        try await CoordinatorHarness.run { harness in
            let first = try await harness.key(.researcher, name: "first")
            let second = try await harness.key(.researcher, name: "second")
            let bundle = try await harness.bundle(researcher: first)
            let created = try await harness.submit(CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1), key: first)
            #expect(created.warnings == nil)
            let refused = try await harness.request(
                .put, "/v1/preprints/2401.01234", key: second, json: PreprintUpdate(title: "Mine now"))
            #expect(refused.status == .forbidden)
        }
    }
}
