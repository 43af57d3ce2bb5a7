import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Answers the requests of the coordinator's HTTP connections, in place of the per-request closure of
/// Hummingbird's `Application`: each pass through the router and the writing of its answer run in a task
/// of their own, and a parked long-poll (``LongPollSlot``) waits between passes in this one frame of the
/// connection's task (decision 0019).
///
/// The Swift task allocator keeps the slabs of the deepest call chain a task ever reached until the task
/// ends, and a connection's task lives as long as the connection. Below Hummingbird's own loop, the
/// `Application`'s closure (the request's logger bound as a task-local, the responder called through its
/// protocol witness), the writing of the answer and the nested async wrappers of the wait
/// (`withGracefulShutdownHandler`, `withTaskCancellationHandler`) each added their frames to every waiting
/// worker's connection (issue 10, part 4). What the closure did is done here: the request's id in its
/// logger, a 500 for an error nobody turned into an answer, the `Date` and `Server` headers.
final class ConnectionResponder<Inner: HTTPResponder>: Sendable where Inner.Context == AppRequestContext {
    let requests: RequestTaskResponder<Inner>
    let serverName: String?
    let logger: Logger

    init(requests: RequestTaskResponder<Inner>, serverName: String?, logger: Logger) {
        self.requests = requests
        self.serverName = serverName
        self.logger = logger
    }

    /// Hummingbird's `HTTP1Channel` calls it for each request of a connection, in the connection's task.
    ///
    /// Its frame holds two references (this class and the request's ``Exchange``) and the parked wait: the
    /// request and its context (~1 KiB) live on the heap, not in a slab of the connection's task.
    func respond(to request: Request, writer: consuming ResponseWriter, channel: any Channel) async throws {
        let exchange = Exchange(request: request, writer: writer, channel: channel, logger: logger)
        while let parked = try await RequestTaskResponder<Inner>.inTask({ [self] in try await pass(exchange) }) {
            // Ends on a signal, at the deadline, or when the client goes or the server starts shutting down
            // (the connection tells; a cancelled connection task closes the connection's input, so that too).
            await parked.sleep()
        }
    }

    /// One pass through the router; writes the answer, or returns the wait the request parked.
    private func pass(_ exchange: Exchange) async throws -> LongPollSlot.Parked? {
        let context = exchange.context
        var response: Response
        do {
            response = try await requests.inner.respond(to: exchange.request, context: context)
            if let parked = context.longPoll.takeParked() { return parked }
        } catch let error as HTTPParserError {
            throw error
        } catch {
            context.logger.debug("Unrecognised Error", metadata: ["error.type": "\(error)"])
            response = Response(status: .internalServerError, body: .init())
        }
        response.headers[.date] = HTTPDate.now
        if let serverName { response.headers[.server] = serverName }
        do {
            try await exchange.takeWriter().write(response: response.head, body: response.body)
        } catch is HTTPParserError {
            // Not rethrown as such: Hummingbird would answer it with a second response.
            throw ParserErrorWhileWriting()
        }
        return nil
    }

    /// A request being answered: the request, its context, and the connection's writer for its answer, handed
    /// to the pass that writes it. Unchecked because `ResponseWriter` is not `Sendable`; safe because one task
    /// at a time uses it: the pass's task, which the connection's task awaits.
    private final class Exchange: @unchecked Sendable {
        let request: Request
        let context: AppRequestContext
        private var writer: ResponseWriter?

        init(request: Request, writer: consuming ResponseWriter, channel: any Channel, logger: Logger) {
            self.request = request
            var logger = logger
            logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
            context = AppRequestContext(source: .init(channel: channel, logger: logger))
            context.longPoll.enableParking()
            self.writer = .some(writer)
        }

        func takeWriter() -> ResponseWriter { writer.take()! }
    }

    /// The connection failed while an answer was written: it is closed, as Hummingbird does.
    struct ParserErrorWhileWriting: Error {}
}
