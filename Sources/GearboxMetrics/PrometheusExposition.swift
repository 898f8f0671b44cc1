import Hummingbird
import NIOCore
import Prometheus

/// The one way Gearbox's processes expose metrics: a swift-prometheus registry, the swift-metrics factory
/// that records into it with buckets sized for jobs (100 µs to 5 minutes; 1 to 5,000 rows), and a
/// `GET /metrics` route that serves it in Prometheus' text format.
public struct PrometheusExposition: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
            .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10),
            .seconds(60), .seconds(300),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
        self.factory = factory
    }

    /// Adds `GET /metrics`; `beforeScrape` brings derived metrics (gauges, published counts) up to date first.
    public func register(on router: Router<some RequestContext>, beforeScrape: @escaping @Sendable () -> Void) {
        let registry = self.registry
        router.get("/metrics") { _, _ -> Response in
            beforeScrape()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
