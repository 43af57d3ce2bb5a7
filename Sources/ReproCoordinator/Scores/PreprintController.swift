import Foundation
import Hummingbird
import ReproCore

/// `GET` and `PUT /v1/preprints/{id}`, and the score history.
struct PreprintController: Sendable {
    let preprints: PreprintRepository
    let scores: ScoreRepository

    static let readers: Set<Role> = [.researcher, .moderator, .funder, .community, .admin]

    func register(on routes: RouteGuard) {
        routes.on(.get, "/v1/preprints/{id}", roles: Self.readers, use: self.get)
        routes.on(.put, "/v1/preprints/{id}", roles: [.researcher, .moderator, .admin], use: self.put)
        routes.on(.get, "/v1/preprints/{id}/score/history", roles: Self.readers, use: self.history)
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        guard let record = try await preprints.record(id, completedOnly: identity.isPublicReader) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        return try .json(record)
    }

    @Sendable func put(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        var update = try await RequestBody.json(PreprintUpdate.self, from: request)
        try Self.validate(&update)
        let created = try await preprints.upsert(id, update, by: identity)
        guard let record = try await preprints.record(id, completedOnly: false) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        return try .json(record, status: created ? .created : .ok)
    }

    @Sendable func history(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let id = try PreprintPath.id(context)
        guard let history = try await scores.history(preprint: id, completedOnly: identity.isPublicReader) else {
            throw Problem.notFound("No preprint \(id).", field: "id")
        }
        return try .json(history)
    }

    /// Trims the text fields and checks the limits, naming the field at fault.
    static func validate(_ update: inout PreprintUpdate) throws {
        update.title = update.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...PreprintLimits.title).contains(update.title.count) else {
            throw Problem.badRequest("title must be 1–\(PreprintLimits.title) characters.", field: "title")
        }
        func list(_ values: [String]?, _ name: String, max: Int) throws -> [String]? {
            guard let values else { return nil }
            guard values.count <= max else { throw Problem.badRequest("\(name): at most \(max) entries.", field: name) }
            return try values.enumerated().map { index, value in
                let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...PreprintLimits.name).contains(trimmed.count) else {
                    throw Problem.badRequest("\(name)[\(index)] must be 1–\(PreprintLimits.name) characters.", field: "\(name)[\(index)]")
                }
                return trimmed
            }
        }
        update.authors = try list(update.authors, "authors", max: PreprintLimits.authors)
        update.institutions = try list(update.institutions, "institutions", max: PreprintLimits.institutions)
        if let field = update.field?.trimmingCharacters(in: .whitespaces) {
            guard (1...PreprintLimits.field).contains(field.count) else {
                throw Problem.badRequest("field must be 1–100 characters.", field: "field")
            }
            update.field = field
        }
        if let funding = update.funding {
            guard funding.count <= PreprintLimits.funding else { throw Problem.badRequest("funding: at most 100 entries.", field: "funding") }
            update.funding = try funding.enumerated().map { index, entry in
                let funder = entry.funder.trimmingCharacters(in: .whitespaces)
                guard (1...PreprintLimits.funder).contains(funder.count) else {
                    throw Problem.badRequest(
                        "funding[\(index)].funder must be 1–200 characters.", field: "funding[\(index)].funder")
                }
                let grant = entry.grant?.trimmingCharacters(in: .whitespaces)
                if let grant, !(1...PreprintLimits.funder).contains(grant.count) {
                    throw Problem.badRequest(
                        "funding[\(index)].grant must be 1–200 characters.", field: "funding[\(index)].grant")
                }
                return FundingEntry(funder: funder, grant: grant)
            }
        }
        if let date = update.date {
            // Checked here rather than by PostgreSQL's cast, which would fail the request with a 500.
            guard let match = date.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})/),
                DateComponents(
                    calendar: Calendar(identifier: .gregorian), year: Int(match.1), month: Int(match.2),
                    day: Int(match.3)
                ).isValidDate, (Int(match.1) ?? 0) >= 1
            else {
                throw Problem.badRequest("date must be a date like 2024-01-31.", field: "date")
            }
        }
    }
}
