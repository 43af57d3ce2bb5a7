import Foundation
import ReproCore
import Testing

@testable import ReproCoordinator

/// Parsed specs are kept per study, bounded by the seeds they hold (issue 16).
@Suite("Study spec cache")
struct StudySpecCacheTests {
    static func spec(seeds: Int) -> StudySpec {
        StudySpec(
            preprint: PreprintSpec(id: "arXiv:2401.01234", title: "t"),
            code: .bundle("sha256:" + String(repeating: "ab", count: 32)),
            run: RunSpec(command: ["python3", "train.py"], timeoutSeconds: 60),
            matrix: MatrixSpec(seeds: (0..<Int64(seeds)).map { $0 }, datasets: ["d"]))
    }

    @Test("keeps specs until their seeds pass the capacity, then starts over; never keeps one larger than it")
    func bounded() {
        let cache = StudySpecCache(capacity: 100)
        let (a, b, c, huge) = (UUID(), UUID(), UUID(), UUID())
        cache.store(Self.spec(seeds: 40), for: a)
        cache.store(Self.spec(seeds: 40), for: b)
        #expect(cache.spec(a)?.matrix.seeds.count == 40)
        #expect(cache.spec(b) != nil)
        // Storing the same study again does not count its seeds twice.
        cache.store(Self.spec(seeds: 40), for: b)
        #expect(cache.spec(a) != nil)
        // 40 + 40 + 40 (+1 each) passes 100: the cache starts over with c alone.
        cache.store(Self.spec(seeds: 40), for: c)
        #expect(cache.spec(a) == nil && cache.spec(b) == nil)
        #expect(cache.spec(c) != nil)
        cache.store(Self.spec(seeds: 100), for: huge)
        #expect(cache.spec(huge) == nil, "a spec over the capacity on its own is not kept")
        #expect(cache.spec(c) != nil, "and does not evict the others")
    }

    @Test("the repository reads a study's spec once and answers later reads from the cache")
    func readOnce() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let study = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 3), key: researcher)
            let studies = harness.services.studies
            #expect(studies.specs.spec(study.id) == nil)
            let first = try #require(try await studies.spec(study.id))
            #expect(studies.specs.spec(study.id)?.matrix.seeds == first.matrix.seeds)
            #expect(try await studies.spec(UUID()) == nil, "an unknown study is still nil")
        }
    }
}
