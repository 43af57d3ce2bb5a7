import Foundation
import Hummingbird
import ReproCore

/// Moderation routes: the review queue and document, approval and rejection, the audit log, trust of
/// accounts, and the coordinator's public signing keys (decision 0007).
struct ReviewController: Sendable {
    let moderation: ModerationRepository
    let studies: StudyRepository
    let signer: SigningKeyStore

    func register(on routes: RouteGuard) {
        routes.on(.get, "/v1/reviews", roles: [.moderator, .admin], use: self.list)
        routes.on(.get, "/v1/reviews/{id}", roles: [.moderator, .admin], use: self.document)
        routes.on(.post, "/v1/reviews/{id}/approve", roles: [.moderator, .admin], use: self.approve)
        routes.on(.post, "/v1/reviews/{id}/reject", roles: [.moderator, .admin], use: self.reject)
        routes.on(.get, "/v1/moderation/log", roles: [.moderator, .admin], use: self.log)
        routes.on(.post, "/v1/accounts/{id}/trust", roles: [.admin], use: self.trust)
        // Public keys are public: a worker fetches them before it has any token of its own.
        routes.public(.get, "/v1/signing-keys", use: self.keys)
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response
    {
        try .json(ReviewList(studies: try await moderation.pending()))
    }

    @Sendable func document(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let id = try context.parameters.require("id", as: UUID.self)
        guard let facts = try await moderation.reviewFacts(id) else {
            throw Problem.notFound("No study \(id) with a job manifest.", field: "id")
        }
        var files: [BundleFile]?
        var texts: [BundleText] = []
        var problem: String?
        if let bundle = facts.bundle {
            do {
                let inventory = try await Task.detached { try BundleInventory.read(bundle) }.value
                files = inventory.files
                texts = inventory.texts
            } catch {
                problem = "the bundle cannot be unpacked: \(error)"
            }
        } else if facts.manifest.code.bundleSHA256 != nil {
            problem = "the bundle is missing from the coordinator"
        }
        let requirementsText = facts.manifest.requirements.flatMap { path in
            texts.first { $0.path == path || "./" + $0.path == path }?.text
        }
        let example =
            facts.firstTask.flatMap {
                facts.manifest.arguments(seed: $0.seed, dataset: $0.dataset, configuration: $0.configuration)
            } ?? facts.manifest.command
        let git = facts.manifest.code.gitURL == nil ? nil : facts.manifest.code
        let document = ReviewDocument(
            studyID: id, state: facts.state, preprintID: facts.preprintID, title: facts.title, manifest: facts.manifest,
            bindingSHA256: facts.binding, files: files, bundleProblem: problem, git: git, texts: texts,
            requirementsText: requirementsText, exampleCommand: example, taskCount: facts.taskCount, maxTaskCount: facts.maxTaskCount,
            submitter: facts.submitter, review: try await studies.review(id) ?? StudyReview())
        return try .json(document)
    }

    @Sendable func approve(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let id = try context.parameters.require("id", as: UUID.self)
        let body = try await RequestBody.optionalJSON(ApproveRequest.self, from: request) ?? ApproveRequest()
        _ = try await moderation.decide(.approve(note: body.reason), study: id, actor: identity.accountID)
        return try await status(id)
    }

    @Sendable func reject(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let id = try context.parameters.require("id", as: UUID.self)
        let body = try await RequestBody.json(RejectRequest.self, from: request)
        _ = try await moderation.decide(.reject(reason: body.reason), study: id, actor: identity.accountID)
        return try await status(id)
    }

    func status(_ id: UUID) async throws -> Response {
        guard let status = try await studies.status(id) else { throw Problem.notFound("No study \(id).", field: "id") }
        return try .json(status)
    }

    @Sendable func log(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response
    {
        var study: UUID?
        if let text = try QueryParameters(request)["study"] {
            guard let parsed = UUID(uuidString: text) else {
                throw Problem.badRequest("study must be a study id (a UUID).", field: "study")
            }
            study = parsed
        }
        var limit = 100
        if let text = try QueryParameters(request)["limit"] {
            guard let parsed = Int(text), (1...1000).contains(parsed) else {
                throw Problem.badRequest("limit must be a whole number from 1 to 1000.", field: "limit")
            }
            limit = parsed
        }
        return try .json(AuditLog(entries: try await moderation.log(study: study, limit: limit)))
    }

    @Sendable func trust(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let id = try context.parameters.require("id", as: UUID.self)
        let body = try await RequestBody.json(TrustRequest.self, from: request)
        let reason = try ModerationDecision.normalized(body.reason, required: false)
        guard
            let trust = try await moderation.setTrusted(
                id, trusted: body.trusted, actor: identity.accountID, reason: reason)
        else { throw Problem.notFound("No account \(id).", field: "id") }
        context.logger.notice(
            "account trust changed", metadata: ["repro.account.id": "\(id)", "repro.trusted": "\(body.trusted)"])
        return try .json(trust)
    }

    @Sendable func keys(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try .json(try signer.readKeyring())
    }
}
