import NIOCore

/// Starts each HTTP connection with a 512-byte read buffer instead of NIO's 2 KiB, then leaves the
/// pipeline.
///
/// NIO keeps a channel's last read buffer for its next read and reuses it whenever it is large enough,
/// so a connection keeps its first buffer for good unless a larger read grows it. A worker's lease
/// request is a few hundred bytes and its connection sits idle in a long-poll most of the time: with
/// 10 000 of them, NIO's default cost 20 MiB of buffers (heaptrack, issue 10, part 4). The adaptive
/// allocator still doubles the buffer on every read that fills it, up to 64 KiB, for bundles and results.
final class ReadBufferSizer: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    func handlerAdded(context: ChannelHandlerContext) {
        _ = try? context.channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.allocator)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
