import Foundation
import ReproCore
import ReproStats

/// A feedback post after validation: tags normalized, text trimmed, every limit checked.
struct FeedbackInput: Sendable {
    var verdict: FeedbackItem.Verdict
    var rating: Int?
    var tags: [String]
    var text: String
    var studyID: UUID?

    /// Validates a post; every refusal is a 400 naming the field.
    init(_ post: FeedbackPost) throws {
        if let rating = post.rating, !(1...5).contains(rating) {
            throw Problem.badRequest("rating must be an integer from 1 to 5 (got \(rating)).", field: "rating")
        }
        let rawTags = post.tags ?? []
        guard rawTags.count <= FeedbackPost.maxTags else {
            throw Problem.badRequest("At most \(FeedbackPost.maxTags) tags (got \(rawTags.count)).", field: "tags")
        }
        var tags: [String] = []
        for (index, raw) in rawTags.enumerated() {
            let tag = try Self.normalize(tag: raw, field: "tags[\(index)]")
            if !tags.contains(tag) { tags.append(tag) }
        }
        let text = (post.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= FeedbackPost.maxTextLength else {
            throw Problem.badRequest(
                "text is \(text.count) characters; at most \(FeedbackPost.maxTextLength).", field: "text")
        }
        verdict = post.verdict
        rating = post.rating
        self.tags = tags
        self.text = text
        studyID = post.studyID
    }

    /// Lower-cased and trimmed, spaces and underscores become hyphens, then only `[a-z0-9-]` may remain
    /// (1–32 characters, no leading or trailing hyphen). "Seed Sensitive" → "seed-sensitive".
    static func normalize(tag raw: String, field: String) throws -> String {
        var tag = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        tag = tag.replacing(/[\s_]+/, with: "-")
        tag = tag.replacing(/-{2,}/, with: "-").trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        guard !tag.isEmpty else { throw Problem.badRequest("\(field) is empty.", field: field) }
        guard tag.count <= FeedbackPost.maxTagLength else {
            throw Problem.badRequest("\(field) is longer than \(FeedbackPost.maxTagLength) characters.", field: field)
        }
        guard tag.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
            throw Problem.badRequest(
                "\(field) (\(raw)) may contain only letters a–z, digits and hyphens; vocabulary: "
                    + FeedbackPost.vocabulary.joined(separator: ", ") + ".", field: field)
        }
        return tag
    }
}
