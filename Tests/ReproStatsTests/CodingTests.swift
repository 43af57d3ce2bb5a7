import Foundation
import Testing

@testable import ReproStats

/// The coordinator encodes these structs directly: keys must be snake_case and a value must survive a round trip.
@Suite("JSON encoding")
struct CodingTests {
    static func keys(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let fields): fields.keys + fields.values.flatMap(keys)
        case .array(let values): values.flatMap(keys)
        default: []
        }
    }

    func roundTrip<Value: Codable & Equatable>(_ value: Value, sourceLocation: SourceLocation = #_sourceLocation) throws
    {
        let json = try JSONValue.encoding(value)
        let camelCase = Self.keys(json).filter { $0.contains(where: \.isUppercase) }
        #expect(camelCase.isEmpty, "not snake_case: \(camelCase)", sourceLocation: sourceLocation)
        let decoded = try JSONDecoder().decode(Value.self, from: JSONEncoder().encode(value))
        #expect(decoded == value, sourceLocation: sourceLocation)
    }

    @Test("every result type encodes snake_case keys and decodes back to itself")
    func allTypes() throws {
        let runs = [0.912, 0.905, 0.917, 0.909, 0.921, 0.903, 0.915, 0.911, 0.93, 0.90, 0.88]
        try roundTrip(Summary(values: runs))
        try roundTrip(BootstrapOptions.standard)
        let claim = Claim(metric: "accuracy", dataset: "cifar10", value: 0.925, direction: .higher)
        try roundTrip(claim)
        try roundTrip(ClaimCheck.evaluate(values: runs, claim: claim))
        try roundTrip(VarianceDecomposition.oneWay(groups: [[0.9, 0.91], [0.92, 0.92], [0.95, 0.94]]))
        try roundTrip(VarianceDecomposition.acrossDatasets([[0.9, 0.91, 0.9], [0.8, 0.82]]))
        try roundTrip(
            try #require(VarianceDecomposition.twoWay([[[1, 2], [3, 4]], [[5, 6.5], [7, 8]]]))
        )
        try roundTrip(ReproducibilityScore(reproduced: 7, decided: 9, inconclusive: 2, runs: 120))
        let items = [
            FeedbackItem(id: "a", verdict: .notReproduced, rating: 2, tags: ["cpu"], text: "Loss diverged", helpful: 2)
        ]
        try roundTrip(items[0])
        try roundTrip(
            FeedbackStatistics(
                items: items,
                globalMeanRating: 3.5,
                corpus: KeyPhraseCorpus(texts: ["Loss diverged", "fine"])
            )
        )
        try roundTrip(KeyPhraseCorpus(texts: ["seed variance", "learning rate"]))
        // Issue 15: bounded claims, sequential looks, plans.
        let bounded = Claim(
            metric: "accuracy", dataset: "digits", value: 0.97, direction: .higher, tolerance: 0.01,
            range: Interval(lower: 0, upper: 1))
        try roundTrip(bounded)
        try roundTrip(ClaimCheck.evaluate(values: runs, claim: bounded))
        try roundTrip(SequentialCheck.evaluate(values: runs, lookSizes: [5, 10, 11], maximumRuns: 20, claim: bounded))
        try roundTrip(ClaimPlan(claim: claim, sd: 0.01))
        try roundTrip(AdaptiveSchedule(min: 5, max: 60, step: 5))
    }

    @Test("verdicts and directions use the words of statistics.md")
    func vocabulary() {
        #expect(
            Verdict.allCases.map(\.rawValue) == ["reproduced", "not_reproduced", "inconclusive", "insufficient_runs"]
        )
        #expect(Claim.Direction.allCases.map(\.rawValue) == ["higher", "lower", "equal"])
        #expect(
            FeedbackItem.Verdict.allCases.map(\.rawValue) == ["reproduced", "partially", "not_reproduced", "comment"]
        )
    }
}
