#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A term or bigram with its TF-IDF weight in one preprint's feedback.
public struct KeyPhrase: Codable, Sendable, Hashable {
    /// The lowercased term, or two terms separated by a space.
    public let phrase: String
    /// Occurrences in the preprint's feedback texts.
    public let count: Int
    /// TF-IDF weight (see ``KeyPhrases/top(texts:corpus:limit:)``).
    public let weight: Double
}

/// Document frequencies of terms and bigrams over all feedback (the "against all feedback" of TF-IDF).
///
/// What a document is is the caller's choice; one feedback item per document is the intended use. Codable so
/// the coordinator can keep it between reports.
public struct KeyPhraseCorpus: Codable, Sendable, Hashable {
    /// Number of documents N.
    public let documents: Int
    /// For each term or bigram, the number of documents that contain it.
    public let documentFrequency: [String: Int]

    enum CodingKeys: String, CodingKey {
        case documents
        case documentFrequency = "document_frequency"
    }

    /// Corpus statistics computed elsewhere.
    public init(documents: Int, documentFrequency: [String: Int]) {
        self.documents = documents
        self.documentFrequency = documentFrequency
    }

    /// Corpus statistics of `texts`, each one document, tokenized as ``KeyPhrases/terms(in:)`` does.
    public init(texts: [String]) {
        var frequency: [String: Int] = [:]
        for text in texts {
            for term in Set(KeyPhrases.terms(in: text)) {
                frequency[term, default: 0] += 1
            }
        }
        self.init(documents: texts.count, documentFrequency: frequency)
    }
}

/// Key phrases of a preprint's feedback by TF-IDF.
public enum KeyPhrases {
    /// Longest term kept, in characters. A longer run of letters (a pasted hash, URL or base64 blob) is no
    /// useful key phrase, and an unbounded term once exceeded the index entry of the term tables, so
    /// feedback holding one could not be posted at all.
    public static let maxTermLength = 40

    /// The terms and bigrams of `text`, in order of appearance.
    ///
    /// Text is lowercased and split into runs of letters and digits. Stop words (``StopWords``), one-character
    /// tokens, all-digit tokens and tokens longer than ``maxTermLength`` are dropped. A bigram is two kept tokens
    /// that were adjacent, separated only by whitespace, a hyphen, apostrophe or slash: stop words, dropped tokens
    /// and other punctuation (. , ; : ! ? …) break phrases, so "loss of accuracy" gives no bigram and
    /// "fine-tuning diverged." gives "fine tuning" and "tuning diverged".
    ///
    /// Chinese and Japanese are written without spaces, so a run of Han, Hiragana or Katakana characters is
    /// one "word" of hundreds of characters to the rule above. Such a run yields its overlapping character
    /// bigrams instead (the usual unit of CJK text search): "复现失败" gives "复现", "现失", "失败".
    public static func terms(in text: String) -> [String] {
        var terms: [String] = []
        var previous: String?
        var token = ""
        var ideographs: [Character] = []
        func finishToken() {
            guard !token.isEmpty else { return }
            let keep = token.count >= 2 && token.count <= maxTermLength && !token.allSatisfy(\.isNumber)
                && !StopWords.english.contains(token)
            if keep {
                terms.append(token)
                if let previous { terms.append(previous + " " + token) }
                previous = token
            } else {
                previous = nil
            }
            token = ""
        }
        func finishIdeographs() {
            guard !ideographs.isEmpty else { return }
            if ideographs.count >= 2 {
                for index in 0..<(ideographs.count - 1) {
                    terms.append(String(ideographs[index]) + String(ideographs[index + 1]))
                }
            }
            ideographs.removeAll(keepingCapacity: true)
            previous = nil
        }
        for character in text.lowercased() {
            if isIdeographic(character) {
                finishToken()
                ideographs.append(character)
            } else if character.isLetter || character.isNumber {
                finishIdeographs()
                token.append(character)
            } else {
                finishToken()
                finishIdeographs()
                if !(character.isWhitespace || "-'’/".contains(character)) {
                    previous = nil
                }
            }
        }
        finishToken()
        finishIdeographs()
        return terms
    }

    /// Han (CJK ideographs), Hiragana and Katakana: scripts written without spaces between words.
    static func isIdeographic(_ character: Character) -> Bool {
        guard let scalar = character.unicodeScalars.first else { return false }
        switch scalar.value {
        case 0x3040...0x30FF,  // Hiragana, Katakana
            0x31F0...0x31FF,  // Katakana phonetic extensions
            0x3400...0x4DBF,  // CJK extension A
            0x4E00...0x9FFF,  // CJK unified ideographs
            0xF900...0xFAFF,  // CJK compatibility ideographs
            0xFF66...0xFF9F,  // half-width Katakana
            0x20000...0x3134F:  // CJK extensions B–G
            return true
        default:
            return false
        }
    }

    /// The `limit` terms or bigrams with the highest TF-IDF weight in a preprint's feedback texts.
    ///
    /// weight = tf · idf with tf = occurrences / number of single terms in `texts`, and the smoothed
    /// idf = ln((1 + N) / (1 + df)) + 1 (scikit-learn's `smooth_idf`), N and df from `corpus`. Ties are broken
    /// alphabetically, so the result is deterministic.
    public static func top(texts: [String], corpus: KeyPhraseCorpus, limit: Int = 10) -> [KeyPhrase] {
        var counts: [String: Int] = [:]
        var singleTerms = 0
        for text in texts {
            for term in terms(in: text) {
                counts[term, default: 0] += 1
                if !term.contains(" ") { singleTerms += 1 }
            }
        }
        guard singleTerms > 0, limit > 0 else { return [] }
        let documents = Double(Swift.max(corpus.documents, 0))
        let phrases = counts.map { term, count -> KeyPhrase in
            let frequency = Double(Swift.max(corpus.documentFrequency[term] ?? 0, 0))
            let idf = log((1 + documents) / (1 + frequency)) + 1
            return KeyPhrase(phrase: term, count: count, weight: Double(count) / Double(singleTerms) * idf)
        }
        let ranked = phrases.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.phrase < $1.phrase }
        return Array(ranked.prefix(limit))
    }
}
