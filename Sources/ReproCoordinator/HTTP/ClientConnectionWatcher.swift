import NIOCore

/// Sits in every HTTP connection's pipeline and tells its ``ClientConnection`` when the client
/// went: the server allows half-closure, so a client that closes its socket shows up as the
/// `inputClosed` event (not as an inactive channel), and a reset as `channelInactive`. It also tells
/// it when the server starts shutting down: NIO's `ServerQuiescingHelper` then sends every connection
/// `ChannelShouldQuiesceEvent`. It reads nothing: every message and event passes through unchanged.
final class ClientConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    // Never unwrapped: the watcher only forwards what it reads.
    typealias InboundIn = Any

    let connection = ClientConnection()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { connection.markClosed() }
        if event is ChannelShouldQuiesceEvent { connection.markShuttingDown() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.markClosed()
        context.fireChannelInactive()
    }
}
