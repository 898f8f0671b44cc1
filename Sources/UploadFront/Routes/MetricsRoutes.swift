import CoreMetrics
import Hummingbird
import NIOCore
import Prometheus

/// `GET /metrics`: Prometheus' text format. With the embedded farm, its job server's and image workers'
/// metrics; always the front's own resize jobs in flight and waiting for a slot
/// (`gearbox_front_jobs{state="running"|"waiting"}`).
struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let limiter: JobLimiter
    /// Brings the embedded server's counts up to date.
    let beforeScrape: @Sendable () -> Void

    func register(on router: Router<some RequestContext>) {
        let running = Gauge(label: "gearbox_front_jobs", dimensions: [("state", "running")], factory: factory)
        let waiting = Gauge(label: "gearbox_front_jobs", dimensions: [("state", "waiting")], factory: factory)
        router.get("/metrics") { _, _ -> Response in
            beforeScrape()
            running.record(limiter.inUse)
            waiting.record(limiter.waiting)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
