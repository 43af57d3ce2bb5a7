import ArgumentParser
import Foundation
import ReproClient
import ReproCore
import ReproStats

/// `repro feedback PREPRINT --verdict …` posts feedback; `repro feedback summary PREPRINT` shows the summary.
struct Feedback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post community feedback on a preprint (replaces your earlier feedback on it), or show its summary.",
        subcommands: [Post.self, Summary.self], defaultSubcommand: Post.self)

    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "post", abstract: "Post your verdict, rating, tags and text on a preprint.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Preprint id (arXiv id or DOI).") var preprint: String
        @Option(help: "reproduced, partially, not_reproduced or comment.") var verdict: String
        @Option(help: "Rating 1–5 (optional).") var rating: Int?
        @Option(name: .customLong("tag"), help: "A tag (repeatable), e.g. seed-sensitive, code-available.")
        var tags: [String] = []
        @Option(help: "Free text (at most 5 000 characters).") var text: String?
        @Option(help: "The study your feedback is about (optional).") var study: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard FeedbackItem.Verdict(rawValue: verdict) != nil else {
                throw ValidationError("--verdict must be reproduced, partially, not_reproduced or comment.")
            }
            if let rating, !(1...5).contains(rating) { throw ValidationError("--rating must be 1 to 5.") }
            if let study, UUID(uuidString: study) == nil { throw ValidationError("--study must be a study id (UUID).") }
        }

        func run() async throws {
            let client = try connection.client()
            let post = FeedbackPost(
                verdict: FeedbackItem.Verdict(rawValue: verdict) ?? .comment, rating: rating,
                tags: tags.isEmpty ? nil : tags, text: text, studyID: study.flatMap(UUID.init(uuidString:)))
            let posted = try await reporting { try await client.postFeedback(preprint: preprint, post) }
            if json {
                print(String(decoding: try WireCoding.encoder().encode(posted), as: UTF8.self))
                return
            }
            let item = posted.feedback
            var line = "Feedback \(item.id.uuidString.lowercased()) on \(item.preprintID): \(item.verdict.rawValue)"
            if let rating = item.rating { line += ", rating \(rating)" }
            if !item.tags.isEmpty { line += ", tags " + item.tags.joined(separator: ", ") }
            print(line)
            if !posted.history.isEmpty {
                print("Replaces your earlier feedback (\(posted.history.count) version(s) kept).")
            }
        }
    }

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a preprint's community feedback summary.")

        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Preprint id (arXiv id or DOI).") var preprint: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try connection.client()
            let summary = try await reporting { try await client.feedbackSummary(preprint: preprint) }
            if json {
                print(String(decoding: try WireCoding.encoder().encode(summary), as: UTF8.self))
            } else {
                print(FeedbackSummaryRenderer.render(summary))
            }
        }
    }
}

/// The feedback summary for people.
enum FeedbackSummaryRenderer {
    static func render(_ summary: FeedbackSummary) -> String {
        func number(_ value: Double?, _ digits: Int = 2) -> String {
            value.map { String(format: "%.\(digits)f", $0) } ?? "–"
        }
        let counts = summary.verdictCounts
        var lines = [
            "Community feedback on \(summary.preprintID): \(summary.items) item(s)",
            "  verdicts: reproduced \(counts.reproduced), partially \(counts.partially), "
                + "not reproduced \(counts.notReproduced), comments \(counts.comment)",
            "  reproduced share, 95 % lower bound: \(number(summary.reproducedShareLowerBound, 3))",
            // "mean 4.00 of 3" read as four out of three: say what the 3 counts and what the scale is.
            "  rating (1–5): mean \(number(summary.ratingMean)) from \(summary.ratingCount) rating(s), Bayesian average "
                + "\(number(summary.ratingBayesian)) (m = \(Int(summary.priorWeight)), C = \(number(summary.globalMeanRating)))",
        ]
        if !summary.topTags.isEmpty {
            lines.append("  top tags: " + summary.topTags.map { "\($0.tag) (\($0.count))" }.joined(separator: ", "))
        }
        if !summary.keyPhrases.isEmpty {
            lines.append("  key phrases: " + summary.keyPhrases.prefix(8).map(\.phrase).joined(separator: ", "))
        }
        for highlight in summary.highlights {
            lines.append(
                "  most helpful: \(highlight.id) (\(highlight.helpful) helpful, \(highlight.unhelpful) not; "
                    + "lower bound \(number(highlight.helpfulLowerBound, 3)))")
        }
        lines.append("  (The feedback summary is shown beside the measured score; it never changes it.)")
        return lines.joined(separator: "\n")
    }
}
