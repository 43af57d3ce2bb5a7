import Foundation
import HTTPTypes
import HummingbirdTesting
import ReproCore
import Testing
import Yams

@testable import ReproCoordinator

/// Every route admits only its roles: no key is 401, a key without the role is 403, and the
/// OpenAPI document declares the same roles (so the contract cannot drift from the code).
@Suite("Route authorization", .serialized)
struct RouteAuthTests {
    @Test("every guarded route refuses a missing key and every role it does not admit")
    func everyRouteRefusesWrongRoles() async throws {
        try await CoordinatorHarness.run { harness in
            let routes = try Self.routes(harness)
            #expect(routes.count >= 14)
            var keys: [Role: String] = [:]
            for role in Role.allCases where role != .worker {
                keys[role] = try await harness.key(role, name: "role-\(role.rawValue)")
            }
            keys[.worker] = try await harness.worker(name: "auth").token

            for route in routes {
                let path = Self.concrete(route.path)
                if route.roles.isEmpty {
                    let response = try await harness.request(route.method, path, key: nil)
                    #expect(response.status.code != 401, "\(route.method) \(route.path) is public")
                    continue
                }
                let anonymous = try await harness.request(route.method, path, key: nil)
                #expect(anonymous.status == .unauthorized, "\(route.method) \(route.path) without a key")
                #expect(try CoordinatorHarness.problem(anonymous).status == 401)

                let bogus = try await harness.request(route.method, path, key: "rg_not_a_real_key")
                #expect(bogus.status == .unauthorized, "\(route.method) \(route.path) with an unknown key")

                for role in Role.allCases where !route.roles.contains(role) {
                    let response = try await harness.request(route.method, path, key: keys[role])
                    #expect(response.status == .forbidden, "\(route.method) \(route.path) as \(role)")
                    let problem = try CoordinatorHarness.problem(response)
                    #expect(problem.detail.contains("admits the roles"))
                }
            }
        }
    }

    @Test("the OpenAPI document lists every route with the roles the code enforces")
    func openAPIMatchesRoutes() async throws {
        try await CoordinatorHarness.run { harness in
            let response = try await harness.request(.get, "/openapi.yaml", key: nil)
            #expect(response.status == .ok)
            let document = try #require(try Yams.load(yaml: String(buffer: response.body)) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            let routes = try Self.routes(harness)
            for route in routes {
                let operations = try #require(paths[route.path] as? [String: Any], "\(route.path) is not documented")
                let operation = try #require(
                    operations[route.method.rawValue.lowercased()] as? [String: Any],
                    "\(route.method) \(route.path) is not documented")
                let documented = Set((operation["x-roles"] as? [String] ?? []).compactMap(Role.init(rawValue:)))
                #expect(documented == route.roles, "\(route.method) \(route.path): x-roles \(documented) ≠ \(route.roles)")
            }
            let documentedCount = paths.values.reduce(0) { $0 + (($1 as? [String: Any])?.count ?? 0) }
            #expect(documentedCount == routes.count, "the document has operations the router does not serve")
        }
    }

    @Test("malformed authorization and unknown routes answer with problem documents")
    func problemsForOddRequests() async throws {
        try await CoordinatorHarness.run { harness in
            var headers = HTTPFields()
            headers[.authorization] = "Basic dXNlcjpwYXNz"
            let basic = try await harness.client.execute(uri: "/v1/studies", method: .post, headers: headers, body: nil)
            #expect(basic.status == .unauthorized)
            #expect(try CoordinatorHarness.problem(basic).detail.contains("Bearer"))

            let missing = try await harness.request(.get, "/v1/nothing-here", key: nil)
            #expect(missing.status == .notFound)
            #expect(try CoordinatorHarness.problem(missing).status == 404)
        }
    }

    static func routes(_ harness: CoordinatorHarness) throws -> [GuardedRoute] {
        let services = harness.services
        return buildRouter(
            configuration: CoordinatorConfiguration(), database: services.database, wakeup: services.wakeup,
            queue: services.queue, accounts: services.accounts, studies: services.studies, signer: services.signer,
            logger: .init(label: "routes")
        ).routes
    }

    /// A path with its parameters filled in with well-formed values.
    static func concrete(_ path: String) -> String {
        path.replacingOccurrences(of: "{id}", with: UUID().uuidString)
            .replacingOccurrences(of: "{task_id}", with: "1")
            .replacingOccurrences(of: "{sha256}", with: String(repeating: "a", count: 64))
    }
}
