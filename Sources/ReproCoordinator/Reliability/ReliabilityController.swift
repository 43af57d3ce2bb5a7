import Foundation
import Hummingbird
import ReproCore

/// Workers' reliability and quarantine: admins see and act on every worker; a volunteer sees their own.
struct ReliabilityController: Sendable {
    let reliability: ReliabilityRepository
    let quarantines: QuarantineRepository

    func register(on routes: RouteGuard) {
        routes.on(.get, "/v1/workers", roles: [.admin, .volunteer], use: self.list)
        routes.on(.get, "/v1/workers/{id}", roles: [.admin, .volunteer], use: self.show)
        routes.on(.post, "/v1/workers/{id}/quarantine", roles: [.admin], use: self.quarantineWorker)
        routes.on(.post, "/v1/workers/{id}/release", roles: [.admin], use: self.releaseWorker)
        routes.on(.post, "/v1/accounts/{id}/quarantine", roles: [.admin], use: self.quarantineAccount)
        routes.on(.post, "/v1/accounts/{id}/release", roles: [.admin], use: self.releaseAccount)
        routes.on(.get, "/v1/quarantine/events", roles: [.admin], use: self.events)
    }

    /// Admins get every worker; a volunteer only the workers registered with their key.
    @Sendable func list(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response
    {
        let workers = try await reliability.workers(owner: identity.isAdmin ? nil : identity.accountID)
        return try .json(WorkerList(workers: workers))
    }

    /// Another volunteer's worker is answered 404, as if it did not exist.
    @Sendable func show(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response
    {
        let id = try context.parameters.require("id", as: UUID.self)
        guard
            let worker = try await reliability.workers(owner: identity.isAdmin ? nil : identity.accountID, worker: id)
                .first
        else { throw Problem.notFound("No worker \(id).", field: "id") }
        return try .json(worker)
    }

    @Sendable func quarantineWorker(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        try await act(.worker(try context.parameters.require("id", as: UUID.self)), quarantine: true, request, identity)
    }

    @Sendable func releaseWorker(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        try await act(
            .worker(try context.parameters.require("id", as: UUID.self)), quarantine: false, request, identity)
    }

    @Sendable func quarantineAccount(_ request: Request, _ context: AppRequestContext, _ identity: Identity)
        async throws
        -> Response
    {
        try await act(
            .account(try context.parameters.require("id", as: UUID.self)), quarantine: true, request, identity)
    }

    @Sendable func releaseAccount(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        try await act(
            .account(try context.parameters.require("id", as: UUID.self)), quarantine: false, request, identity)
    }

    @Sendable func events(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws
        -> Response
    {
        let limit =
            try QueryParameters(request)["limit"].map { text -> Int in
                guard let value = Int(text), (1...1000).contains(value) else {
                    throw Problem.badRequest("limit must be a whole number from 1 to 1000.", field: "limit")
                }
                return value
            } ?? 100
        return try .json(QuarantineEventList(events: try await quarantines.events(limit: limit)))
    }

    /// A quarantine needs a reason; a release may give one (recorded in the log either way).
    private func act(_ target: QuarantineTarget, quarantine: Bool, _ request: Request, _ identity: Identity)
        async throws
        -> Response
    {
        let body = try await RequestBody.json(QuarantineRequest.self, from: request)
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...2000).contains(reason.count) else {
            throw Problem.badRequest("reason must have 1 to 2000 characters.", field: "reason")
        }
        let outcome =
            quarantine
            ? try await quarantines.quarantine(target, reason: reason, actor: identity.accountID)
            : try await quarantines.release(target, reason: reason, actor: identity.accountID)
        return try .json(outcome)
    }
}
