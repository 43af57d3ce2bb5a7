import Foundation
import Hummingbird
import ReproCore

/// Routes of researchers: submit, follow, cancel studies and read their runs.
struct StudyController: Sendable {
    let studies: StudyRepository
    let limits: SpecLimits

    func register(on routes: RouteGuard) {
        routes.on(.post, "/v1/studies", roles: [.researcher, .admin], use: self.create)
        routes.on(.get, "/v1/studies/{id}", roles: [.researcher, .moderator, .funder, .admin], use: self.get)
        routes.on(.get, "/v1/studies/{id}/runs", roles: [.researcher, .moderator, .admin], use: self.runs)
        routes.on(.post, "/v1/studies/{id}/cancel", roles: [.researcher, .admin], use: self.cancel)
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        // `?new=true` runs an identical spec again as a separate study (e.g. on other hardware).
        let allowDuplicate: Bool
        switch try QueryParameters(request)["new"] {
        case nil, "false": allowDuplicate = false
        case "true": allowDuplicate = true
        case let other?: throw Problem.badRequest("new must be true or false, not \"\(other)\".", field: "new")
        }
        let spec = try await SpecBody.decode(request, limits: limits, context: .server)
        let created = try await studies.create(spec: spec, owner: identity.accountID, allowDuplicate: allowDuplicate)
        return try .json(created, status: created.existing ? .ok : .created)
    }

    /// A study the caller may see: researchers see their own; the other admitted roles see all.
    /// Someone else's study answers 404, not 403, so ids cannot be probed.
    func visibleStudy(_ context: AppRequestContext, _ identity: Identity, owners: Bool = false) async throws -> UUID {
        let id = try context.parameters.require("id", as: UUID.self)
        guard let owner = try await studies.owner(of: id) else {
            throw Problem.notFound("No study \(id).", field: "id")
        }
        let seesAll = identity.isAdmin || (!owners && !identity.roles.isDisjoint(with: [.moderator, .funder]))
        guard seesAll || owner == identity.accountID else {
            throw Problem.notFound("No study \(id).", field: "id")
        }
        return id
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await visibleStudy(context, identity)
        guard let status = try await studies.status(id) else { throw Problem.notFound("No study \(id).", field: "id") }
        return try .json(status)
    }

    @Sendable func runs(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await visibleStudy(context, identity)
        return try .json(RunList(runs: try await studies.runs(id)))
    }

    @Sendable func cancel(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try await visibleStudy(context, identity, owners: true)
        guard let cancelled = try await studies.cancel(id) else {
            throw Problem.conflict("The study is not running (already completed or cancelled).", field: "id")
        }
        context.logger.info("study cancelled", metadata: ["repro.study.id": "\(id)", "repro.tasks": "\(cancelled)"])
        guard let status = try await studies.status(id) else { throw Problem.notFound("No study \(id).", field: "id") }
        return try .json(status)
    }
}
