import Hummingbird
import Logging
import NIOCore
import ReproCore

/// The request context of every coordinator route: Hummingbird's core storage plus the caller's identity,
/// set by ``Authenticator`` from the bearer key before any handler runs.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling; nil when the request carried no valid key.
    public var identity: Identity?
    /// Why the credentials the request carried were refused, if it carried any; answered by the
    /// guarded routes only, so public routes ignore credentials (a wrong key does not fail /healthz).
    public var credentialRefusal: Problem?
    /// The HTTP connection the request came on; a long-poll watches it (``ClientConnection``).
    public let channel: any Channel
    /// The dashboard session the identity came from (cookie), nil for bearer keys (``SessionMiddleware``).
    public var webSession: WebSession?
    /// Where a long-poll parks its wait between passes through the router (decision 0019).
    public let longPoll: LongPollSlot

    /// Creates a context for one request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.credentialRefusal = nil
        self.channel = source.channel
        self.webSession = nil
        self.longPoll = LongPollSlot()
    }

    /// Bodies are read by the handlers themselves with a per-route limit (``RequestBody``); this is the
    /// ceiling for the largest route (code bundles).
    public var maxUploadSize: Int { RequestBody.maxBundleBytes }
}
