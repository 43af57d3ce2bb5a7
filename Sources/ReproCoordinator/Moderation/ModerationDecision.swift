import Foundation
import ReproCore

/// The moderation rules as plain values (decide in memory, then write once): what happens to a study
/// at submission, and what a moderator's approval or rejection does. The repository only reads the
/// rows, asks here, and writes the answer.
enum ModerationDecision {
    /// Where a new study starts.
    enum Submission: Equatable {
        /// Approved at once: signed, its tasks queued.
        case approved(ApprovalKind, via: UUID?)
        /// Waiting for a moderator; its tasks held.
        case pending

        var studyState: StudyState { self == .pending ? .pendingReview : .running }
        var taskState: TaskState { self == .pending ? .held : .queued }
    }

    /// A trusted submitter's study is approved as such; otherwise a moderator's earlier approval of the
    /// same binding applies (naming that study); otherwise it waits. Trust comes first so the record says
    /// the stronger reason; an earlier approval made because of trust does not carry over to others.
    static func atSubmission(submitterTrusted: Bool, earlierModeratorApproval: UUID?) -> Submission {
        if submitterTrusted { return .approved(.trustedSubmitter, via: nil) }
        if let earlier = earlierModeratorApproval { return .approved(.earlierApproval, via: earlier) }
        return .pending
    }

    /// A moderator's action on a study.
    enum Action: Equatable {
        case approve(note: String?)
        case reject(reason: String)
    }

    /// What an action changes.
    struct Plan: Equatable {
        var studyState: StudyState
        /// Held tasks become this.
        var taskState: TaskState
        var auditAction: String
        var reason: String?
        /// Whether the manifest gets signed.
        var signs: Bool
    }

    /// Longest reason kept.
    static let maximumReasonLength = 2000

    /// The plan for `action` on a study in `state`; a 4xx problem when the action does not apply.
    static func plan(_ action: Action, studyState state: StudyState) throws -> Plan {
        switch action {
        case .approve(let note):
            let note = try normalized(note, required: false)
            guard state == .pendingReview else { throw notPending(state) }
            return Plan(studyState: .running, taskState: .queued, auditAction: "approve", reason: note, signs: true)
        case .reject(let reason):
            let reason = try normalized(reason, required: true)
            guard state == .pendingReview else { throw notPending(state) }
            return Plan(
                studyState: .rejected, taskState: .cancelled, auditAction: "reject", reason: reason, signs: false)
        }
    }

    static func normalized(_ text: String?, required: Bool) throws -> String? {
        let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.isEmpty {
            if required {
                throw Problem.badRequest("Say why: the reason is shown to the study's owner.", field: "reason")
            }
            return nil
        }
        guard trimmed.count <= maximumReasonLength else {
            throw Problem.badRequest("reason may have at most \(maximumReasonLength) characters.", field: "reason")
        }
        return trimmed
    }

    static func notPending(_ state: StudyState) -> Problem {
        Problem.conflict("The study is \(state.rawValue), not pending_review: it was already decided.", field: "id")
    }
}
