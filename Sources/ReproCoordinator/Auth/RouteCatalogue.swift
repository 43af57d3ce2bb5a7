import Hummingbird
import Synchronization

/// Every route the coordinator serves, readable while requests run: the authenticator asks it whether
/// a request goes to a public route (which then ignores credentials), and the problem middleware which
/// methods a known path takes (405 with `Allow` instead of 404).
public final class RouteCatalogue: Sendable {
    /// Each route with its path template already split: the authenticator matches every request against
    /// every route, and splitting the templates per request was 1.5 % of the Swift pool's samples in the
    /// batch-50 benchmark (issue 16).
    private let entries = Mutex<[(route: GuardedRoute, template: [Substring])]>([])

    /// An empty catalogue; ``RouteGuard`` fills it as routes are registered.
    public init() {}

    func add(_ route: GuardedRoute) {
        let template = Array(route.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        entries.withLock { $0.append((route, template)) }
    }

    /// Every route registered.
    public var routes: [GuardedRoute] { entries.withLock { $0.map(\.route) } }

    /// The routes whose path template matches `path` (raw, still percent-encoded, as the router matches
    /// it): same number of segments, `{name}` matching any non-empty segment.
    func routes(matching path: String) -> [GuardedRoute] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return entries.withLock { entries in
            entries.compactMap { entry in
                guard entry.template.count == segments.count else { return nil }
                let matches = zip(entry.template, segments).allSatisfy { pattern, segment in
                    pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
                }
                return matches ? entry.route : nil
            }
        }
    }

    /// True when `method path` goes to a route without roles.
    func isPublic(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        routes(matching: path).contains { $0.method == method && $0.roles.isEmpty }
    }
}
