import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import ReproCore

/// Answers a request the HTTP parser refused with a problem document instead of Hummingbird's bare
/// `400` with an empty body: headers past the decoder's limit (80 KiB, such as a 100 KB bearer key)
/// get `431 Request Header Fields Too Large`, any other malformed request `400`. The connection is
/// closed afterwards, as the parser cannot find the next request in the stream.
///
/// It sits after the HTTP codec in every connection's pipeline and handles the parser's error before
/// the server does; everything else passes through unchanged.
final class ParserErrorResponder: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let details: ProblemDetails =
            if case .headerOverflow = parserError {
                ProblemDetails(
                    slug: "headers-too-large", title: "Request header fields too large", status: 431,
                    detail: "The request's headers are larger than the coordinator reads (80 KiB); an API key is 46 characters.")
            } else {
                ProblemDetails(
                    slug: "bad-request", title: "Bad request", status: 400,
                    detail: "The request is not valid HTTP/1.1 (\(parserError)).")
            }
        let body = (try? WireCoding.encoder().encode(details)) ?? Data()
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        fields[.contentLength] = "\(body.count)"
        fields[.connection] = "close"
        let head = HTTPResponse(status: .init(code: details.status), headerFields: fields)
        context.write(NIOAny(HTTPResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPResponsePart.body(ByteBuffer(bytes: body))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
