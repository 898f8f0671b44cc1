import CoreMetrics
import GearboxMetrics
import Hummingbird

/// `GET /metrics`: with the embedded farm, its job server's and image workers' metrics; always the front's
/// own resize jobs in flight and waiting for a slot (`gearbox_front_jobs{state="running"|"waiting"}`).
struct MetricsRoutes: Sendable {
    let exposition: PrometheusExposition
    let limiter: JobLimiter
    /// Brings the embedded server's counts up to date.
    let beforeScrape: @Sendable () -> Void

    func register(on router: Router<some RequestContext>) {
        let factory = exposition.factory
        let running = Gauge(label: "gearbox_front_jobs", dimensions: [("state", "running")], factory: factory)
        let waiting = Gauge(label: "gearbox_front_jobs", dimensions: [("state", "waiting")], factory: factory)
        let (limiter, beforeScrape) = (self.limiter, self.beforeScrape)
        exposition.register(on: router) {
            beforeScrape()
            running.record(limiter.inUse)
            waiting.record(limiter.waiting)
        }
    }
}
