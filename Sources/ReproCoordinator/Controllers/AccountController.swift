import Hummingbird
import ReproCore

/// Admin routes for accounts and their keys.
struct AccountController: Sendable {
    let accounts: AccountRepository

    func register(on routes: RouteGuard) {
        routes.on(.post, "/v1/accounts", roles: [.admin], use: self.create)
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext, _ identity: Identity) async throws -> Response {
        let body = try await RequestBody.json(AccountCreateRequest.self, from: request)
        let name = body.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else {
            throw Problem.badRequest("name must have 1 to 100 characters.", field: "name")
        }
        guard !body.roles.isEmpty else { throw Problem.badRequest("Give at least one role.", field: "roles") }
        guard !body.roles.contains(.worker) else {
            throw Problem.badRequest(
                "Worker tokens come from registration (`repro-worker` with a volunteer key), not from here.",
                field: "roles")
        }
        let created = try await accounts.createAccount(name: name, roles: Array(Set(body.roles)).sorted { $0.rawValue < $1.rawValue })
        context.logger.info(
            "account created", metadata: ["repro.account.id": "\(created.accountID)", "repro.roles": "\(body.roles.map(\.rawValue))"])
        return try .json(created, status: .created)
    }
}
