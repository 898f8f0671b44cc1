import CoreMetrics
import GearboxMetrics
import Hummingbird

/// `GET /metrics`: with the embedded farm, its job server's and image workers' metrics; always the front's
/// own resize jobs in flight and waiting for a slot (`gearbox_front_jobs{state="running"|"waiting"}`), the
/// requests of `/photos/ID/image` waiting for a job (`gearbox_front_transform_requests_waiting`), the jobs
/// submitted for them (`gearbox_front_transform_jobs_submitted`) and the bytes their cache holds
/// (`gearbox_front_transform_cache_bytes`).
struct MetricsRoutes: Sendable {
    let exposition: PrometheusExposition
    let limiter: JobLimiter
    let transforms: TransformMaker
    /// Brings the embedded server's counts up to date.
    let beforeScrape: @Sendable () -> Void

    func register(on router: Router<some RequestContext>) {
        let factory = exposition.factory
        let running = Gauge(label: "gearbox_front_jobs", dimensions: [("state", "running")], factory: factory)
        let waiting = Gauge(label: "gearbox_front_jobs", dimensions: [("state", "waiting")], factory: factory)
        let transformsWaiting = Gauge(label: "gearbox_front_transform_requests_waiting", factory: factory)
        let transformJobs = Gauge(label: "gearbox_front_transform_jobs_submitted", factory: factory)
        let cacheBytes = Gauge(label: "gearbox_front_transform_cache_bytes", factory: factory)
        let (limiter, transforms, beforeScrape) = (self.limiter, self.transforms, self.beforeScrape)
        exposition.register(on: router) {
            beforeScrape()
            running.record(limiter.inUse)
            waiting.record(limiter.waiting)
            transformsWaiting.record(transforms.waiting)
            transformJobs.record(transforms.submitted)
            cacheBytes.record(transforms.cache.totalBytes)
        }
    }
}
