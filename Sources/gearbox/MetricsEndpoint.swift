import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// `GET /metrics` in Prometheus' text format on a port of its own, for `gearbox server --metrics-port` and
/// `gearbox worker --metrics-port`: a Hummingbird application in the command's `ServiceGroup`.
struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let registry: PrometheusCollectorRegistry
    /// Brings derived metrics up to date just before each scrape.
    let beforeScrape: @Sendable () -> Void
    let logger: Logger

    /// The factory the command's metrics are made with, and the registry this endpoint serves.
    static func makeFactory() -> (PrometheusMetricsFactory, PrometheusCollectorRegistry) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10),
            .seconds(60), .seconds(300),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
        return (factory, registry)
    }

    func run() async throws {
        let router = Router()
        let (registry, beforeScrape) = (self.registry, self.beforeScrape)
        router.get("metrics") { _, _ -> Response in
            beforeScrape()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "gearbox-metrics"),
            logger: logger)
        try await app.run()
    }
}
