@testable import ReproCLI
import ReproCore
import Testing

/// The feedback summary as `repro feedback summary` prints it.
@Suite("Feedback summary rendering")
struct FeedbackSummaryRendererTests {
    @Test("the rating line names the scale and what the count counts")
    func ratingLine() {
        // A mean above the count ("mean 4.00 of 3") read as four out of three.
        let summary = FeedbackSummary(
            preprintID: "arXiv:2401.01234", items: 4,
            verdictCounts: .init(reproduced: 2, partially: 1, notReproduced: 0, comment: 1),
            reproducedShareLowerBound: 0.342, ratingMean: 4, ratingCount: 3, ratingBayesian: 3.69,
            globalMeanRating: 3.5, priorWeight: 5, topTags: [], highlights: [], keyPhrases: [])
        let lines = FeedbackSummaryRenderer.render(summary).split(separator: "\n").map(String.init)
        let rating = lines.first { $0.contains("rating") && !$0.contains("verdicts") }
        #expect(rating == "  rating (1–5): mean 4.00 from 3 rating(s), Bayesian average 3.69 (m = 5, C = 3.50)")
    }
}
