import Hummingbird
import Synchronization

/// Every route the coordinator serves, readable while requests run: the authenticator asks it whether
/// a request goes to a public route (which then ignores credentials), and the problem middleware which
/// methods a known path takes (405 with `Allow` instead of 404).
public final class RouteCatalogue: Sendable {
    private let entries = Mutex<[GuardedRoute]>([])

    /// An empty catalogue; ``RouteGuard`` fills it as routes are registered.
    public init() {}

    func add(_ route: GuardedRoute) {
        entries.withLock { $0.append(route) }
    }

    /// Every route registered.
    public var routes: [GuardedRoute] { entries.withLock { $0 } }

    /// The routes whose path template matches `path` (raw, still percent-encoded, as the router matches
    /// it): same number of segments, `{name}` matching any non-empty segment.
    func routes(matching path: String) -> [GuardedRoute] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return routes.filter { route in
            let template = route.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard template.count == segments.count else { return false }
            return zip(template, segments).allSatisfy { pattern, segment in
                pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
            }
        }
    }

    /// True when `method path` goes to a route without roles.
    func isPublic(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        routes(matching: path).contains { $0.method == method && $0.roles.isEmpty }
    }
}
