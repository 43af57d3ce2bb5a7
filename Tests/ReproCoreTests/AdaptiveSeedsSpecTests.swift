import Foundation
import ReproCore
import ReproStats
import Testing

/// `matrix.seeds: {adaptive: {min, max, step}}` (issue 15 part 2, decision 0015).
@Suite("Adaptive seeds in the spec")
struct AdaptiveSeedsSpecTests {
    static let seeds = "seeds: [0, 1, 2, 3, 4]"
    static let adaptive = "seeds: {adaptive: {min: 5, max: 60, step: 5}}"

    static func spec(_ seeds: String = adaptive) throws -> StudySpec {
        try StudySpec.parse(Data(SpecFixtures.fullYAML(replacing: Self.seeds, with: seeds).utf8))
    }

    @Test("an adaptive matrix may run seeds 0 to max − 1 and starts with the first min of them")
    func parsesTheSchedule() throws {
        let matrix = try Self.spec().matrix
        #expect(matrix.adaptive == AdaptiveSchedule(min: 5, max: 60, step: 5))
        #expect(matrix.seeds == Array(0..<60))
        #expect(matrix.initialSeedCount == 5)
        #expect(matrix.taskCount == 3 * 60 * 2)
        let fixed = try Self.spec(Self.seeds).matrix
        #expect(fixed.adaptive == nil)
        #expect(fixed.initialSeedCount == 5)
    }

    @Test("the canonical JSON keeps the schedule (not 60 seeds) and parses back to an equal spec")
    func canonicalRoundTrip() throws {
        let spec = try Self.spec()
        let json = String(decoding: spec.canonicalJSON(), as: UTF8.self)
        #expect(json.contains(#""seeds":{"adaptive":{"max":60,"min":5,"step":5}}"#))
        #expect(try StudySpec.parse(spec.canonicalJSON(), format: .json) == spec)
        #expect(spec.sha256Hex != (try Self.spec(Self.seeds)).sha256Hex)
        // Codable (storage, the wire) reads the same shape.
        let decoded = try JSONDecoder().decode(StudySpec.self, from: spec.canonicalJSON())
        #expect(decoded == spec)
    }

    @Test("expansion starts with min seeds; a step's groups keep the numbers they have among all max seeds")
    func expansionOfSteps() throws {
        let spec = try Self.spec("seeds: {adaptive: {min: 3, max: 9, step: 3}}")
        let initial = spec.expand()
        #expect(initial.count == 3 * 2 * 3)
        #expect(Set(initial.map(\.seed)) == [0, 1, 2])
        // dataset digits, configuration large (name order), seeds 0…8: groups 0…8; small: 9…17.
        #expect(initial.prefix(3).map(\.seedGroup) == [0, 1, 2])
        #expect(initial[3].seedGroup == 9)
        let step = spec.expand(seedIndices: 3..<6, datasets: ["wine"])
        #expect(step.count == 3 * 2)
        #expect(step.allSatisfy { $0.dataset == "wine" && (3..<6).contains($0.seed) })
        #expect(step.map(\.seedGroup) == [21, 22, 23, 30, 31, 32])
        #expect(step.first?.arguments.contains("3") == true)
        // All steps together are the full matrix.
        let all = spec.expand(seedIndices: 0..<9)
        #expect(all.count == spec.matrix.taskCount)
    }

    static let rejections: [RejectionCase] = [
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 1, max: 60, step: 5}}", path: "matrix.seeds.adaptive.min",
            reason: "must be between 2 and 10000, got 1"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 60, step: 0}}", path: "matrix.seeds.adaptive.step",
            reason: "must be between 1 and 10000, got 0"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 20, max: 10, step: 5}}", path: "matrix.seeds.adaptive.min",
            reason: "must not exceed max (10), got 20"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 20000, step: 500}}", path: "matrix.seeds.adaptive.max",
            reason: "must be between 2 and 10000, got 20000"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 60, step: 1}}", path: "matrix.seeds.adaptive.step",
            reason: "plans 56 looks"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 60}}", path: "matrix.seeds.adaptive.step",
            reason: "missing required key 'step'"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 60, step: 5, start: 0}}",
            path: "matrix.seeds.adaptive.start", reason: "unknown key 'start'"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 60, step: 5}, from: 0}", path: "matrix.seeds.from",
            reason: "unknown key 'from'"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: 5}", path: "matrix.seeds.adaptive",
            reason: "expected a mapping (keys: min, max, step)"),
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: five, max: 60, step: 5}}", path: "matrix.seeds.adaptive.min",
            reason: "expected a whole number"),
        // The task limit applies to what the study may grow to: 3 datasets × 2 configurations × 2 000 seeds.
        RejectionCase(
            old: seeds, new: "seeds: {adaptive: {min: 5, max: 2000, step: 100}}", path: "matrix",
            reason: "expands to 12000 tasks"),
    ]

    @Test(arguments: rejections)
    func invalidSchedulesNameTheirField(_ rejection: RejectionCase) {
        rejection.check()
    }
}
