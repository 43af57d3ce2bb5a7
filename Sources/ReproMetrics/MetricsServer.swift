import Hummingbird
import Logging
import NIOCore

/// A second HTTP server that answers only `GET /metrics` (Prometheus text format 0.0.4), on its own
/// port, bound to 127.0.0.1 unless told otherwise (decision 0012): the scrape needs no key and shows
/// nothing to the network by default.
public enum MetricsServer {
    /// The server as a service to run beside the main one; `onRunning` gets the bound port (useful with port 0).
    public static func application(
        host: String, port: Int, logger: Logger, onRunning: (@Sendable (Int) async -> Void)? = nil
    ) -> some ApplicationProtocol {
        MetricsRegistry.bootstrap()
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: MetricsRegistry.shared.emitToBuffer())))
        }
        var metricsLogger = logger
        metricsLogger[metadataKey: "repro.server"] = "metrics"
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "reprogrid-metrics"),
            onServerRunning: { channel in
                logger.notice(
                    "metrics server listening",
                    metadata: ["repro.metrics.address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                await onRunning?(channel.localAddress?.port ?? port)
            },
            logger: metricsLogger)
    }
}
