import Foundation
import Hummingbird
import ReproCore

/// Community feedback routes: post, list, summary, votes and moderation.
struct FeedbackController: Sendable {
    let feedback: FeedbackRepository
    let preprints: PreprintRepository

    func register(on routes: RouteGuard) {
        routes.on(.post, "/v1/preprints/{id}/feedback", roles: [.community, .researcher], use: self.post)
        routes.on(.get, "/v1/preprints/{id}/feedback", roles: PreprintController.readers, use: self.list)
        routes.on(.get, "/v1/preprints/{id}/feedback/summary", roles: PreprintController.readers, use: self.summary)
        routes.on(.put, "/v1/feedback/{id}/vote", roles: [.community, .researcher], use: self.vote)
        routes.on(.delete, "/v1/feedback/{id}/vote", roles: [.community, .researcher], use: self.unvote)
        routes.on(.post, "/v1/feedback/{id}/hide", roles: [.moderator, .admin], use: self.hide)
    }

    @Sendable func post(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        let input = try FeedbackInput(try await RequestBody.json(FeedbackPost.self, from: request, limit: 64 << 10))
        let posted = try await feedback.post(preprint: id, account: identity.accountID, input: input)
        return try .json(posted, status: .created)
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        let parameters = try QueryParameters(request)
        var includeHidden = false
        if let value = parameters["include_hidden"] {
            guard let flag = Bool(String(value).lowercased()) else {
                throw Problem.badRequest("include_hidden must be true or false.", field: "include_hidden")
            }
            guard !flag || !identity.roles.isDisjoint(with: [.moderator, .admin]) else {
                throw Problem.forbidden("Only moderators and admins see hidden feedback (include_hidden).")
            }
            includeHidden = flag
        }
        var limit = 50
        if let value = parameters["limit"] {
            guard let parsed = Int(String(value)), (1...200).contains(parsed) else {
                throw Problem.badRequest("limit must be an integer from 1 to 200.", field: "limit")
            }
            limit = parsed
        }
        var cursor: UUID?
        if let value = parameters["cursor"] {
            guard let parsed = UUID(uuidString: String(value)) else {
                throw Problem.badRequest("cursor is not a cursor this API handed out.", field: "cursor")
            }
            cursor = parsed
        }
        guard try await preprints.exists(id, completedOnly: identity.isPublicReader) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        // Without include_hidden the query returns visible items only, and those have no hidden reason.
        let page = try await feedback.list(preprint: id, includeHidden: includeHidden, cursor: cursor, limit: limit)
        return try .json(page)
    }

    @Sendable func summary(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        guard try await preprints.exists(id, completedOnly: identity.isPublicReader) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        return try .json(try await feedback.summary(preprint: id))
    }

    @Sendable func vote(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try context.parameters.require("id", as: UUID.self)
        let body = try await RequestBody.json(FeedbackVote.self, from: request, limit: 4 << 10)
        guard let votes = try await feedback.vote(feedback: id, account: identity.accountID, kind: body.vote) else {
            throw Problem.notFound("No current feedback item \(id).", field: "id")
        }
        return try .json(votes)
    }

    @Sendable func unvote(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try context.parameters.require("id", as: UUID.self)
        guard let votes = try await feedback.vote(feedback: id, account: identity.accountID, kind: nil) else {
            throw Problem.notFound("No current feedback item \(id).", field: "id")
        }
        return try .json(votes)
    }

    @Sendable func hide(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try context.parameters.require("id", as: UUID.self)
        let body = try await RequestBody.json(FeedbackHide.self, from: request, limit: 8 << 10)
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...1_000).contains(reason.count) else {
            throw Problem.badRequest("reason must be 1–1000 characters.", field: "reason")
        }
        guard let hidden = try await feedback.hide(feedback: id, moderator: identity.accountID, reason: reason) else {
            throw Problem.notFound("No feedback item \(id).", field: "id")
        }
        context.logger.info("feedback hidden", metadata: ["repro.feedback.id": "\(id)"])
        return try .json(hidden)
    }
}
