import Foundation
import Testing

@testable import ReproStats

@Suite("Reproducibility score and community feedback")
struct ScoreAndFeedbackTests {
    @Test("no decided claim: score null (not 0), counts and badge still given")
    func notYetScored() throws {
        let score = ReproducibilityScore(verdicts: [.inconclusive, .insufficientRuns, .inconclusive], runs: 42)
        #expect(score.score == nil && score.decided == 0 && score.inconclusive == 2 && score.insufficientRuns == 1)
        #expect(score.badge == nil && score.runs == 42)
        let json = try JSONValue.encoding(score)
        #expect(json["score"] == .null && json["badge"] == .null, "explicit nulls: \(json)")
        #expect(json["not_reproduced"] == .number(0))
    }

    @Test("score from verdicts; badge only when every decided claim reproduced")
    func fromVerdicts() throws {
        let all = ReproducibilityScore(verdicts: [.reproduced, .reproduced, .reproduced, .inconclusive])
        #expect(all.reproduced == 3 && all.decided == 3 && all.badge == .reproduced)
        expectClose(all.score, 43.85029682449546, .closedForm, "3/3")
        let mixed = ReproducibilityScore(verdicts: [.reproduced, .notReproduced])
        #expect(mixed.badge == nil && mixed.notReproduced == 1)
        let json = try JSONValue.encoding(all)
        #expect(json["badge"] == .string("reproduced"))
        let decoded = try JSONDecoder().decode(ReproducibilityScore.self, from: JSONEncoder().encode(all))
        #expect(decoded == all)
    }

    @Test("Wilson: undefined without trials, bounds inside [0, 1], monotone in successes")
    func wilsonShape() throws {
        #expect(Wilson.lowerBound(successes: 0, trials: 0) == nil)
        #expect(Wilson.lowerBound(successes: 5, trials: 4) == nil)
        #expect(Wilson.lowerBound(successes: 0, trials: 10) == 0)
        let bounds = try (0...20).map { try #require(Wilson.lowerBound(successes: $0, trials: 20)) }
        #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 })
        #expect(bounds.allSatisfy { (0...1).contains($0) })
        // More checked claims at the same rate raise the lower bound.
        #expect(
            try #require(Wilson.lowerBound(successes: 9, trials: 9))
                > (try #require(Wilson.lowerBound(successes: 3, trials: 3)))
        )
    }

    @Test("Bayesian average: no ratings gives C, many ratings approach R")
    func bayesian() throws {
        #expect(BayesianAverage.value(mean: 0, count: 0, priorMean: 3.6) == 3.6)
        let many = try #require(BayesianAverage.value(mean: 4.8, count: 10_000, priorMean: 3.0))
        #expect(abs(many - 4.8) < 1e-3)
        #expect(BayesianAverage.value(mean: 4, count: 0, priorMean: 3, priorWeight: 0) == nil)
    }

    @Test("tokenizer: lowercased terms and bigrams, stop words and punctuation break phrases")
    func terms() {
        #expect(
            KeyPhrases.terms(in: "Fine-tuning diverged. Loss of accuracy") == [
                "fine", "tuning", "fine tuning", "diverged", "tuning diverged", "loss", "accuracy",
            ]
        )
        #expect(
            KeyPhrases.terms(in: "The learning rate, 10 epochs on A100") == [
                "learning", "rate", "learning rate", "epochs", "a100",
            ]
        )
        #expect(KeyPhrases.terms(in: "  ").isEmpty)
    }

    @Test("TF-IDF key phrases: tf = count / single terms, idf = ln((1+N)/(1+df)) + 1")
    func keyPhrases() throws {
        let corpus = KeyPhraseCorpus(texts: [
            "results reproduced fine", "results reproduced", "seed variance large", "results match",
        ])
        #expect(corpus.documents == 4 && corpus.documentFrequency["results"] == 3)
        #expect(corpus.documentFrequency["seed variance"] == 1)
        let phrases = KeyPhrases.top(texts: ["Seed variance was large; results reproduced."], corpus: corpus, limit: 3)
        // Single terms: seed, variance, large, results, reproduced = 5.
        let rare = 1.0 / 5 * (log(5.0 / 2) + 1)  // df = 1
        #expect(phrases.map(\.phrase) == ["large", "seed", "seed variance"])
        expectClose(phrases.first?.weight, rare, .closedForm, "weight of a term in one document")
        let common = try #require(KeyPhrases.top(texts: ["results, results"], corpus: corpus, limit: 1).first)
        expectClose(common.weight, 2.0 / 2 * (log(5.0 / 4) + 1), .closedForm, "results")
        #expect(KeyPhrases.top(texts: ["the of and"], corpus: corpus).isEmpty)
    }

    @Test("feedback statistics: counts, Wilson share, ratings, tags, highlights, key phrases, snake_case JSON")
    func feedback() throws {
        let items = [
            FeedbackItem(
                id: "a",
                verdict: .reproduced,
                rating: 5,
                tags: ["GPU", "easy"],
                text: "Reproduced on A100.",
                helpful: 10,
                unhelpful: 0
            ),
            FeedbackItem(
                id: "b",
                verdict: .reproduced,
                rating: 4,
                tags: ["gpu"],
                text: "Seed variance is large.",
                helpful: 3,
                unhelpful: 0
            ),
            FeedbackItem(
                id: "c",
                verdict: .notReproduced,
                rating: 2,
                tags: ["cpu"],
                text: "Loss diverged on CPU.",
                helpful: 1,
                unhelpful: 4
            ),
            FeedbackItem(id: "d", verdict: .partially, rating: 9, tags: [" GPU "], text: "Seed variance again."),
            FeedbackItem(id: "e", verdict: .comment, text: "Nice paper."),
        ]
        let corpus = KeyPhraseCorpus(texts: items.map(\.text) + ["Other preprint reproduced fine.", "Reproduced."])
        let stats = FeedbackStatistics(items: items, globalMeanRating: 3.6, corpus: corpus)
        #expect(stats.verdictCounts.reproduced == 2 && stats.verdictCounts.notReproduced == 1)
        #expect(stats.verdictCounts.partially == 1 && stats.verdictCounts.comment == 1)
        expectClose(stats.reproducedShareLowerBound, Wilson.lowerBound(successes: 2, trials: 3), .closedForm, "share")
        #expect(stats.ratingCount == 3, "rating 9 is outside 1–5")
        expectClose(stats.ratingMean, 11.0 / 3, .closedForm, "mean rating")
        expectClose(stats.ratingBayesian, 3.0 / 8 * (11.0 / 3) + 5.0 / 8 * 3.6, .closedForm, "Bayesian average, m = 5")
        #expect(stats.topTags.first == FeedbackStatistics.TagCount(tag: "gpu", count: 3))
        #expect(stats.highlights.map(\.id) == ["a", "b", "c"])
        #expect(stats.keyPhrases.first?.phrase == "seed variance" || stats.keyPhrases.first?.phrase == "seed")
        let json = try JSONValue.encoding(stats)
        for key in [
            "verdict_counts", "reproduced_share_lb", "rating_mean", "rating_count", "rating_bayesian",
            "top_tags", "highlights", "key_phrases",
        ] {
            #expect(json[key] != nil, "missing key \(key)")
        }
        #expect(json["verdict_counts"]?["not_reproduced"] == .number(1))
    }
}
