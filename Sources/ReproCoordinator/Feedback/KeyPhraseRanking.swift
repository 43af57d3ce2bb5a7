import Foundation
import ReproCore

/// Ranks key phrases from term counts maintained on write, with the weight of ReproStats'
/// `KeyPhrases.top(texts:corpus:limit:)`: tf = occurrences / single terms of the preprint's texts,
/// idf = ln((1 + N) / (1 + df)) + 1, ties alphabetical. Re-tokenizing 10 000 texts per request took
/// seconds; this reads a few thousand counted rows instead. A test checks both agree.
enum KeyPhraseRanking {
    /// One term's counts.
    struct Term {
        var phrase: String
        var occurrences: Int
        var documentFrequency: Int
    }

    /// The `limit` highest weights.
    static func top(terms: [Term], singleTerms: Int, documents: Int, limit: Int = 10) -> [FeedbackKeyPhrase] {
        guard singleTerms > 0, limit > 0 else { return [] }
        let total = Double(max(documents, 0))
        let phrases = terms.filter { $0.occurrences > 0 }.map { term -> FeedbackKeyPhrase in
            let idf = log((1 + total) / (1 + Double(max(term.documentFrequency, 0)))) + 1
            return FeedbackKeyPhrase(
                phrase: term.phrase, count: term.occurrences,
                weight: Double(term.occurrences) / Double(singleTerms) * idf)
        }
        let ranked = phrases.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.phrase < $1.phrase }
        return Array(ranked.prefix(limit))
    }
}
