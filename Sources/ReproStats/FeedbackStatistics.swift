/// Summary of a preprint's community feedback (statistics.md §5).
public struct FeedbackStatistics: Codable, Sendable, Hashable {
    /// Number of items per verdict.
    public struct VerdictCounts: Codable, Sendable, Hashable {
        /// Items saying reproduced.
        public let reproduced: Int
        /// Items saying partially reproduced.
        public let partially: Int
        /// Items saying not reproduced.
        public let notReproduced: Int
        /// Comments without a verdict.
        public let comment: Int

        enum CodingKeys: String, CodingKey {
            case reproduced, partially
            case notReproduced = "not_reproduced"
            case comment
        }
    }

    /// A tag and how many items carry it.
    public struct TagCount: Codable, Sendable, Hashable {
        /// The tag, trimmed and lowercased.
        public let tag: String
        /// Number of items with the tag.
        public let count: Int
    }

    /// An item ranked by how helpful other users found it.
    public struct Highlight: Codable, Sendable, Hashable {
        /// The item's id.
        public let id: String
        /// Helpful votes.
        public let helpful: Int
        /// Not-helpful votes.
        public let unhelpful: Int
        /// Wilson 95 % lower bound of helpful / (helpful + unhelpful).
        public let helpfulLowerBound: Double

        enum CodingKeys: String, CodingKey {
            case id, helpful, unhelpful
            case helpfulLowerBound = "helpful_lower_bound"
        }
    }

    /// Items per verdict.
    public let verdictCounts: VerdictCounts
    /// Wilson 95 % lower bound of reproduced / (reproduced + not_reproduced); nil when both are 0.
    public let reproducedShareLowerBound: Double?
    /// Mean of the valid (1–5) ratings.
    public let ratingMean: Double?
    /// Number of valid ratings v.
    public let ratingCount: Int
    /// Bayesian average v/(v+m)·R + m/(v+m)·C (see ``BayesianAverage``); nil without a global mean C.
    public let ratingBayesian: Double?
    /// Most frequent tags, by count then alphabetically.
    public let topTags: [TagCount]
    /// Items with the highest Wilson lower bound of helpful votes (items without votes are not ranked).
    public let highlights: [Highlight]
    /// Terms and bigrams with the highest TF-IDF weight against all feedback.
    public let keyPhrases: [KeyPhrase]

    enum CodingKeys: String, CodingKey {
        case verdictCounts = "verdict_counts"
        case reproducedShareLowerBound = "reproduced_share_lb"
        case ratingMean = "rating_mean"
        case ratingCount = "rating_count"
        case ratingBayesian = "rating_bayesian"
        case topTags = "top_tags"
        case highlights
        case keyPhrases = "key_phrases"
    }

    /// Summarizes the feedback items of one preprint.
    /// - Parameters:
    ///   - items: the preprint's feedback.
    ///   - globalMeanRating: C, the mean rating over all preprints (nil: no Bayesian average).
    ///   - priorWeight: m of the Bayesian average (default 5).
    ///   - corpus: document frequencies over all feedback, for the key phrases.
    ///   - tagLimit, highlightLimit, phraseLimit: list lengths (defaults 10, 3, 10).
    public init(
        items: [FeedbackItem],
        globalMeanRating: Double?,
        priorWeight: Double = BayesianAverage.defaultPriorWeight,
        corpus: KeyPhraseCorpus,
        tagLimit: Int = 10,
        highlightLimit: Int = 3,
        phraseLimit: Int = 10
    ) {
        let counts = VerdictCounts(
            reproduced: items.count { $0.verdict == .reproduced },
            partially: items.count { $0.verdict == .partially },
            notReproduced: items.count { $0.verdict == .notReproduced },
            comment: items.count { $0.verdict == .comment }
        )
        verdictCounts = counts
        reproducedShareLowerBound = Wilson.lowerBound(
            successes: counts.reproduced,
            trials: counts.reproduced + counts.notReproduced
        )

        let ratings = items.compactMap(\.rating).filter { (1...5).contains($0) }
        ratingCount = ratings.count
        let mean = ratings.isEmpty ? nil : Double(ratings.reduce(0, +)) / Double(ratings.count)
        ratingMean = mean
        ratingBayesian = globalMeanRating.flatMap {
            BayesianAverage.value(mean: mean ?? 0, count: ratings.count, priorMean: $0, priorWeight: priorWeight)
        }

        var tagCounts: [String: Int] = [:]
        for item in items {
            let tags = Set(item.tags.map { $0.trimmingWhitespace().lowercased() }.filter { !$0.isEmpty })
            for tag in tags { tagCounts[tag, default: 0] += 1 }
        }
        topTags = tagCounts.map { TagCount(tag: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.tag < $1.tag }
            .prefix(Swift.max(tagLimit, 0)).map { $0 }

        highlights = items.compactMap { item -> Highlight? in
            let helpful = Swift.max(item.helpful, 0)
            let unhelpful = Swift.max(item.unhelpful, 0)
            guard let bound = Wilson.lowerBound(successes: helpful, trials: helpful + unhelpful) else { return nil }
            return Highlight(id: item.id, helpful: helpful, unhelpful: unhelpful, helpfulLowerBound: bound)
        }
        .sorted {
            if $0.helpfulLowerBound != $1.helpfulLowerBound { return $0.helpfulLowerBound > $1.helpfulLowerBound }
            if $0.helpful != $1.helpful { return $0.helpful > $1.helpful }
            return $0.id < $1.id
        }
        .prefix(Swift.max(highlightLimit, 0)).map { $0 }

        keyPhrases = KeyPhrases.top(texts: items.map(\.text), corpus: corpus, limit: phraseLimit)
    }
}

extension String {
    /// The string without leading and trailing whitespace (Foundation-free `trimmingCharacters(in:)`).
    fileprivate func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
