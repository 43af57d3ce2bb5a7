import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ReproCore

/// Reports of studies and scores of preprints.
struct ReportController: Sendable {
    let reports: ReportRepository
    let studies: StudyRepository

    init(client: DatabaseClient, studies: StudyRepository, logger: Logger) {
        self.reports = ReportRepository(client: client, studies: studies, logger: logger)
        self.studies = studies
    }

    func register(on routes: RouteGuard) {
        routes.on(.get, "/v1/studies/{id}/report", roles: [.researcher, .moderator, .funder, .admin], use: self.report)
        routes.on(
            .get, "/v1/preprints/{id}/score", roles: [.researcher, .moderator, .funder, .community, .admin],
            use: self.score)
    }

    @Sendable func report(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try context.parameters.require("id", as: UUID.self)
        guard let owner = try await studies.owner(of: id),
            owner == identity.accountID || !identity.roles.isDisjoint(with: [.admin, .moderator, .funder])
        else { throw Problem.notFound("No study \(id).", field: "id") }
        guard let report = try await reports.report(study: id) else { throw Problem.notFound("No study \(id).", field: "id") }
        return try .json(report)
    }

    @Sendable func score(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        guard let score = try await reports.score(preprint: id) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        return try .json(score)
    }
}
