import Hummingbird
import Logging
import ReproCore

/// The request context of every coordinator route: Hummingbird's core storage plus the caller's identity,
/// set by ``Authenticator`` from the bearer key before any handler runs.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling; nil when the request carried no valid key.
    public var identity: Identity?

    /// Creates a context for one request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }

    /// Bodies are read by the handlers themselves with a per-route limit (``RequestBody``); this is the
    /// ceiling for the largest route (code bundles).
    public var maxUploadSize: Int { RequestBody.maxBundleBytes }
}
