import Foundation
import HTTPTypes
import ReproCore
import ReproStats
import Testing

@testable import ReproCoordinator

/// Community feedback against a real PostgreSQL: one verdict per account with history, votes,
/// moderation, the §5 summary against hand-computed numbers, and the role rules.
@Suite("Community feedback", .serialized)
struct FeedbackTests {
    @Test("tags are normalized and bad input is a 400 naming the field")
    func tagNormalization() throws {
        #expect(try FeedbackInput.normalize(tag: "  Seed Sensitive ", field: "t") == "seed-sensitive")
        #expect(try FeedbackInput.normalize(tag: "CODE_available", field: "t") == "code-available")
        #expect(try FeedbackInput.normalize(tag: "--gpu--", field: "t") == "gpu")
        #expect(throws: Problem.self) { try FeedbackInput.normalize(tag: "no/slash", field: "t") }
        #expect(throws: Problem.self) { try FeedbackInput.normalize(tag: "é", field: "t") }
        #expect(throws: Problem.self) { try FeedbackInput.normalize(tag: String(repeating: "a", count: 33), field: "t") }
        let input = try FeedbackInput(FeedbackPost(verdict: .comment, tags: ["Seed Sensitive", "seed-sensitive", "GPU"]))
        #expect(input.tags == ["seed-sensitive", "gpu"])
    }

    @Test("one verdict per account and preprint: a new post replaces the old, which is kept as history")
    func oneVerdictPerAccount() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let community = try await harness.key(.community)
            try await harness.putPreprint("2401.01234", key: researcher)
            // Every spelling of the id names the same preprint.
            let first = try await harness.postFeedback(
                "arXiv:2401.01234v2", FeedbackPost(verdict: .notReproduced, rating: 2, tags: ["Seed Sensitive"]),
                key: community)
            #expect(first.feedback.preprintID == "arXiv:2401.01234")
            #expect(first.feedback.tags == ["seed-sensitive"])
            #expect(first.history.isEmpty)
            let second = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .reproduced, rating: 5, text: "Worked on the second try."),
                key: community)
            #expect(second.history.map(\.id) == [first.feedback.id])
            #expect(second.history[0].replacedAt != nil)

            let page: FeedbackPage = try await harness.call(.get, "/v1/preprints/2401.01234/feedback", key: community)
            #expect(page.items.map(\.id) == [second.feedback.id])
            let summary: FeedbackSummary = try await harness.call(
                .get, "/v1/preprints/2401.01234/feedback/summary", key: community)
            #expect(summary.items == 1)
            #expect(summary.verdictCounts.reproduced == 1)
            #expect(summary.verdictCounts.notReproduced == 0)
            #expect(summary.ratingMean == 5)

            let rows = try await harness.database.client.query(
                "SELECT count(*), count(*) FILTER (WHERE replaced_at IS NULL) FROM feedback")
            for try await (all, current) in rows.decode((Int64, Int64).self) {
                #expect(all == 2)
                #expect(current == 1)
            }
        }
    }

    @Test("bad posts name their field; study_id must belong to the preprint; unknown preprint is 404")
    func invalidPosts() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            try await harness.putPreprint("2401.01234", key: researcher)
            try await harness.putPreprint("2402.00001", key: researcher)
            let bundle = try await harness.bundle(researcher: researcher)
            let study = try await harness.submit(
                CoordinatorHarness.spec(bundle: bundle, datasets: ["digits"], seeds: 1, preprint: "2402.00001"),
                key: researcher)
            let cases: [(String, String)] = [
                (#"{"verdict":"maybe"}"#, "verdict"),
                (#"{"verdict":"reproduced","rating":6}"#, "rating"),
                (#"{"verdict":"reproduced","tags":["ok","bad tag!"]}"#, "tags[1]"),
                (#"{"verdict":"reproduced","tags":["a","b","c","d","e","f","g","h","i","j","k"]}"#, "tags"),
                (#"{"verdict":"reproduced","text":"\#(String(repeating: "x", count: 5001))"}"#, "text"),
                (#"{"verdict":"reproduced","study_id":"\#(study.id)"}"#, "study_id"),
                (#"{"rating":3}"#, "verdict"),
            ]
            for (body, field) in cases {
                let response = try await harness.request(
                    .post, "/v1/preprints/2401.01234/feedback", key: researcher, body: Data(body.utf8))
                #expect(response.status == .badRequest, "\(body.prefix(60))")
                #expect(try CoordinatorHarness.problem(response).field == field, "\(body.prefix(60))")
            }
            let linked = try await harness.postFeedback(
                "2402.00001", FeedbackPost(verdict: .partially, studyID: study.id), key: researcher)
            #expect(linked.feedback.studyID == study.id)
            let missing = try await harness.request(
                .post, "/v1/preprints/2499.99999/feedback", key: researcher, json: FeedbackPost(verdict: .comment))
            #expect(missing.status == .notFound)
            let garbage = try await harness.request(
                .post, "/v1/preprints/not-an-id/feedback", key: researcher, json: FeedbackPost(verdict: .comment))
            #expect(garbage.status == .badRequest)
            #expect(try CoordinatorHarness.problem(garbage).field == "id")
        }
    }

    @Test("votes: one per account and item, changeable and removable")
    func votes() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let author = try await harness.key(.community)
            let voter = try await harness.key(.community)
            try await harness.putPreprint("2401.01234", key: researcher)
            let item = try await harness.postFeedback("2401.01234", FeedbackPost(verdict: .reproduced), key: author)
                .feedback.id
            let path = "/v1/feedback/\(item)/vote"
            var votes: FeedbackVotes = try await harness.call(.put, path, key: voter, json: FeedbackVote(vote: .helpful))
            #expect((votes.helpful, votes.unhelpful) == (1, 0))
            votes = try await harness.call(.put, path, key: voter, json: FeedbackVote(vote: .helpful))
            #expect((votes.helpful, votes.unhelpful) == (1, 0))
            votes = try await harness.call(.put, path, key: voter, json: FeedbackVote(vote: .unhelpful))
            #expect((votes.helpful, votes.unhelpful) == (0, 1))
            votes = try await harness.call(.put, path, key: researcher, json: FeedbackVote(vote: .helpful))
            #expect((votes.helpful, votes.unhelpful) == (1, 1))
            votes = try await harness.call(.delete, path, key: voter)
            #expect((votes.helpful, votes.unhelpful) == (1, 0))
            #expect(votes.yourVote == nil)
            let bad = try await harness.request(.put, path, key: voter, body: Data(#"{"vote":"love"}"#.utf8))
            #expect(bad.status == .badRequest)
            #expect(try CoordinatorHarness.problem(bad).field == "vote")
            let unknown = try await harness.request(
                .put, "/v1/feedback/\(UUID())/vote", key: voter, json: FeedbackVote(vote: .helpful))
            #expect(unknown.status == .notFound)
        }
    }

    @Test("moderation hides with a reason: kept, out of list and summary; community cannot moderate")
    func moderation() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            let community = try await harness.key(.community)
            let other = try await harness.key(.community)
            let moderator = try await harness.key(.moderator)
            try await harness.putPreprint("2401.01234", key: researcher)
            let spam = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .notReproduced, rating: 1, text: "buy cheap gpus"), key: community
            ).feedback.id
            _ = try await harness.postFeedback("2401.01234", FeedbackPost(verdict: .reproduced, rating: 4), key: other)

            let denied = try await harness.request(
                .post, "/v1/feedback/\(spam)/hide", key: community, json: FeedbackHide(reason: "mine"))
            #expect(denied.status == .forbidden)
            let noReason = try await harness.request(
                .post, "/v1/feedback/\(spam)/hide", key: moderator, json: FeedbackHide(reason: "  "))
            #expect(try CoordinatorHarness.problem(noReason).field == "reason")
            let hidden: FeedbackView = try await harness.call(
                .post, "/v1/feedback/\(spam)/hide", key: moderator, json: FeedbackHide(reason: "advertising"))
            #expect(hidden.hiddenAt != nil)
            #expect(hidden.hiddenReason == "advertising")

            let page: FeedbackPage = try await harness.call(.get, "/v1/preprints/2401.01234/feedback", key: community)
            #expect(page.items.count == 1)
            #expect(!page.items.contains { $0.id == spam })
            let peek = try await harness.request(
                .get, "/v1/preprints/2401.01234/feedback?include_hidden=true", key: community)
            #expect(peek.status == .forbidden)
            let all: FeedbackPage = try await harness.call(
                .get, "/v1/preprints/2401.01234/feedback?include_hidden=true", key: moderator)
            #expect(all.items.count == 2)
            #expect(all.items.first { $0.id == spam }?.hiddenReason == "advertising")
            let summary: FeedbackSummary = try await harness.call(
                .get, "/v1/preprints/2401.01234/feedback/summary", key: community)
            #expect(summary.items == 1)
            #expect(summary.verdictCounts.notReproduced == 0)
            #expect(summary.ratingMean == 4)
            #expect(summary.globalMeanRating == 4)
            #expect(!summary.keyPhrases.contains { $0.phrase.contains("gpus") })
        }
    }

    @Test("the summary matches hand-computed values (statistics.md §5)")
    func summaryNumbers() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            try await harness.putPreprint("2401.01234", key: researcher)
            try await harness.putPreprint("doi:10.1234%2FOther.5", key: researcher)
            var keys: [String] = []
            for index in 0..<6 { keys.append(try await harness.key(.community, name: "c\(index)")) }
            let texts = [
                "Seed variance is large; the learning rate schedule matters.",
                "Reproduced with the learning rate schedule from the appendix.",
                "Diverged on our GPU, seed variance too large.",
                "Partially: wine dataset fine, digits not.",
            ]
            let a = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .reproduced, rating: 5, tags: ["seed-sensitive", "code-available"], text: texts[0]),
                key: keys[0]).feedback.id
            let b = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .reproduced, rating: 4, tags: ["Seed Sensitive"], text: texts[1]),
                key: keys[1]).feedback.id
            let c = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .notReproduced, rating: 2, tags: ["hardware-sensitive"], text: texts[2]),
                key: keys[2]).feedback.id
            _ = try await harness.postFeedback(
                "2401.01234", FeedbackPost(verdict: .partially, text: texts[3]), key: keys[3])
            // Another preprint's rating moves C, the global mean: (5 + 4 + 2 + 1) / 4 = 3.
            let otherText = "Nothing about seeds here."
            _ = try await harness.postFeedback(
                "doi:10.1234%2Fother.5", FeedbackPost(verdict: .comment, rating: 1, text: otherText), key: keys[0])
            for voter in [keys[4], keys[5]] {
                _ = try await harness.request(.put, "/v1/feedback/\(a)/vote", key: voter, json: FeedbackVote(vote: .helpful))
            }
            _ = try await harness.request(.put, "/v1/feedback/\(b)/vote", key: keys[4], json: FeedbackVote(vote: .helpful))
            _ = try await harness.request(.put, "/v1/feedback/\(b)/vote", key: keys[5], json: FeedbackVote(vote: .unhelpful))

            let summary: FeedbackSummary = try await harness.call(
                .get, "/v1/preprints/2401.01234/feedback/summary", key: keys[0])
            #expect(summary.items == 4)
            #expect(summary.verdictCounts.reproduced == 2)
            #expect(summary.verdictCounts.partially == 1)
            #expect(summary.verdictCounts.notReproduced == 1)
            #expect(summary.verdictCounts.comment == 0)
            // Wilson 95 % lower bound of 2 / 3 (scipy: binomtest(2, 3).proportion_ci(method='wilson').low).
            #expect(abs(summary.reproducedShareLowerBound! - 0.20765960080204768) < 1e-12)
            #expect(abs(summary.ratingMean! - 11.0 / 3.0) < 1e-12)
            #expect(summary.ratingCount == 3)
            #expect(summary.globalMeanRating == 3)
            // 3/8 · 11/3 + 5/8 · 3 = 3.25.
            #expect(abs(summary.ratingBayesian! - 3.25) < 1e-12)
            #expect(summary.topTags.first?.tag == "seed-sensitive")
            #expect(summary.topTags.first?.count == 2)
            // 2/2 helpful → 0.34238; 1/2 → 0.09453.
            #expect(summary.highlights.map(\.id) == [a, b].map { $0.uuidString.lowercased() })
            #expect(abs(summary.highlights[0].helpfulLowerBound - 0.3423802275066531) < 1e-12)
            #expect(abs(summary.highlights[1].helpfulLowerBound - 0.09453120573423071) < 1e-12)
            // Key phrases from the maintained counts equal ReproStats' computation from the texts.
            let reference = KeyPhrases.top(texts: texts, corpus: KeyPhraseCorpus(texts: texts + [otherText]))
            #expect(summary.keyPhrases.map(\.phrase) == reference.map(\.phrase))
            for (got, want) in zip(summary.keyPhrases, reference) {
                #expect(abs(got.weight - want.weight) < 1e-12)
                #expect(got.count == want.count)
            }

            try await Self.expectMatchesFeedbackStatistics(summary, harness: harness)

            // Hiding the not_reproduced item: 2/2 reproduced, mean 4.5, C = (5 + 4 + 1) / 3.
            let moderator = try await harness.key(.moderator)
            _ = try await harness.request(
                .post, "/v1/feedback/\(c)/hide", key: moderator, json: FeedbackHide(reason: "duplicate"))
            let after: FeedbackSummary = try await harness.call(
                .get, "/v1/preprints/2401.01234/feedback/summary", key: keys[0])
            #expect(abs(after.reproducedShareLowerBound! - 0.3423802275066531) < 1e-12)
            #expect(after.ratingMean == 4.5)
            #expect(abs(after.ratingBayesian! - 3.6666666666666665) < 1e-12)
            let visible = [texts[0], texts[1], texts[3]]
            let reference2 = KeyPhrases.top(texts: visible, corpus: KeyPhraseCorpus(texts: visible + [otherText]))
            #expect(after.keyPhrases.map(\.phrase) == reference2.map(\.phrase))
            try await Self.expectMatchesFeedbackStatistics(after, harness: harness)
        }
    }

    /// The summary read from the aggregates maintained on write equals ReproStats' FeedbackStatistics
    /// computed from the visible items themselves.
    static func expectMatchesFeedbackStatistics(_ summary: FeedbackSummary, harness: CoordinatorHarness) async throws {
        let rows = try await harness.database.client.query(
            """
            SELECT preprint_id, id, verdict, rating, tags, body, helpful, unhelpful FROM feedback
            WHERE replaced_at IS NULL AND hidden_at IS NULL
            """)
        var items: [FeedbackItem] = []
        var allTexts: [String] = []
        var ratings: [Int] = []
        for try await (preprint, id, verdict, rating, tags, body, helpful, unhelpful)
            in rows.decode((String, UUID, String, Int?, [String], String, Int, Int).self)
        {
            allTexts.append(body)
            if let rating { ratings.append(rating) }
            guard preprint == summary.preprintID else { continue }
            items.append(
                FeedbackItem(
                    id: id.uuidString.lowercased(), verdict: FeedbackItem.Verdict(rawValue: verdict)!, rating: rating,
                    tags: tags, text: body, helpful: helpful, unhelpful: unhelpful))
        }
        let mean = Double(ratings.reduce(0, +)) / Double(ratings.count)
        let reference = FeedbackStatistics(items: items, globalMeanRating: mean, corpus: KeyPhraseCorpus(texts: allTexts))
        #expect(summary.items == items.count)
        #expect(summary.verdictCounts.reproduced == reference.verdictCounts.reproduced)
        #expect(summary.verdictCounts.partially == reference.verdictCounts.partially)
        #expect(summary.verdictCounts.notReproduced == reference.verdictCounts.notReproduced)
        #expect(summary.verdictCounts.comment == reference.verdictCounts.comment)
        #expect(summary.reproducedShareLowerBound == reference.reproducedShareLowerBound)
        #expect(summary.ratingMean == reference.ratingMean)
        #expect(summary.ratingCount == reference.ratingCount)
        #expect(abs((summary.ratingBayesian ?? -1) - (reference.ratingBayesian ?? -2)) < 1e-12)
        #expect(summary.topTags.map(\.tag) == reference.topTags.map(\.tag))
        #expect(summary.topTags.map(\.count) == reference.topTags.map(\.count))
        #expect(summary.highlights.map(\.id) == reference.highlights.map(\.id))
        #expect(summary.highlights.map(\.helpfulLowerBound) == reference.highlights.map(\.helpfulLowerBound))
        #expect(summary.keyPhrases.map(\.phrase) == reference.keyPhrases.map(\.phrase))
        for (got, want) in zip(summary.keyPhrases, reference.keyPhrases) {
            #expect(abs(got.weight - want.weight) < 1e-12)
        }
    }

    @Test("feedback pages are disjoint and complete")
    func feedbackPaging() async throws {
        try await CoordinatorHarness.run { harness in
            let researcher = try await harness.key(.researcher)
            try await harness.putPreprint("2401.01234", key: researcher)
            var posted: Set<UUID> = []
            for index in 0..<7 {
                let key = try await harness.key(.community, name: "p\(index)")
                posted.insert(try await harness.postFeedback("2401.01234", FeedbackPost(verdict: .comment), key: key).feedback.id)
            }
            var seen: [UUID] = []
            var cursor: String?
            repeat {
                let page: FeedbackPage = try await harness.call(
                    .get, "/v1/preprints/2401.01234/feedback?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""),
                    key: researcher)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 7)
            #expect(Set(seen) == posted)
            let bad = try await harness.request(.get, "/v1/preprints/2401.01234/feedback?limit=0", key: researcher)
            #expect(try CoordinatorHarness.problem(bad).field == "limit")
        }
    }
}
