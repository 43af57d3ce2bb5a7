import Foundation
import Hummingbird
import Logging
import ReproCore
import ReproStats

/// `POST /v1/plan`: runs each claim of a spec needs for 80 % / 90 % power (docs/statistics.md §2d), from an
/// assumed sd (`?sd=0.01`) or the sd a pilot study measured (`?pilot=STUDY_ID`). Nothing is stored.
struct PlanController: Sendable {
    let reports: ReportRepository
    let studies: StudyRepository
    let limits: SpecLimits

    /// The plans of a spec's claims, in the spec's order.
    struct PlanResponse: Codable, Sendable {
        var plans: [ClaimPlan]
    }

    func register(on routes: RouteGuard) {
        routes.on(.post, "/v1/plan", roles: [.researcher, .admin], use: self.plan)
    }

    @Sendable func plan(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let query = try QueryParameters(request)
        let sdText = query["sd"]
        let pilotText = query["pilot"]
        guard (sdText == nil) != (pilotText == nil) else {
            throw Problem.badRequest("Give exactly one of the query parameters sd and pilot.", field: sdText == nil ? "sd" : "pilot")
        }
        var assumedSD: Double?
        if let sdText {
            guard let value = Double(sdText), value.isFinite, value > 0, value <= 1e100 else {
                throw Problem.badRequest("sd must be a positive number, not \"\(sdText)\".", field: "sd")
            }
            assumedSD = value
        }
        // Planning runs nothing, so a local bundle path is as good as an uploaded one.
        let spec = try await SpecBody.decode(request, limits: limits, context: .client)
        guard !spec.claims.isEmpty else {
            throw Problem.badRequest("The spec states no claims, so there is nothing to plan.", field: "claims")
        }
        var measured: [String: Double] = [:]
        if let pilotText {
            guard let pilot = UUID(uuidString: pilotText) else {
                throw Problem.badRequest("pilot must be a study id, not \"\(pilotText)\".", field: "pilot")
            }
            // Someone else's study answers 404, as the report does, so ids cannot be probed.
            guard let owner = try await studies.owner(of: pilot),
                owner == identity.accountID || identity.isAdmin
            else { throw Problem.notFound("No study \(pilot).", field: "pilot") }
            var groups: [String: [Double]] = [:]
            for row in try await reports.values(study: pilot) {
                groups["\(row.dataset)\u{0}\(row.configuration ?? "")\u{0}\(row.metric)", default: []].append(row.value)
            }
            measured = groups.compactMapValues { Summary(values: $0, bootstrap: nil).sd }
        }
        var plans: [ClaimPlan] = []
        for ((configuration, claim), index) in zip(ReportBuilder.claims(of: spec), spec.claims.indices) {
            let key = "\(claim.dataset)\u{0}\(configuration ?? "")\u{0}\(claim.metric)"
            guard let sd = assumedSD ?? measured[key], sd > 0 else {
                throw Problem.badRequest(
                    "The pilot study has no measured sd > 0 for \(claim.metric) on \(claim.dataset).",
                    field: "claims[\(index)]")
            }
            plans.append(ClaimPlan(claim: claim, sd: sd))
        }
        return try .json(PlanResponse(plans: plans))
    }
}
