import Hummingbird

/// `GET /healthz`: 200 when a job server answers and a worker for the image function is attached to it,
/// 503 with Retry-After otherwise. The body says which servers answered and how many workers each has.
struct HealthRoutes: Sendable {
    let farm: FarmStatus
    let limiter: JobLimiter
    let retryAfter: Int

    struct Body: Encodable {
        var status: String
        var function: String
        var servers: [FarmStatus.Server]
        var jobsRunning: Int
        var jobsWaiting: Int

        enum CodingKeys: String, CodingKey {
            case status, function, servers
            case jobsRunning = "jobs_running"
            case jobsWaiting = "jobs_waiting"
        }
    }

    func register(on router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in await self.check() }
    }

    func check() async -> Response {
        let report = await farm.report(fresh: true)
        let body = Body(
            status: report.ready ? "ready" : "unavailable", function: report.function, servers: report.servers,
            jobsRunning: limiter.inUse, jobsWaiting: limiter.waiting)
        guard report.ready else {
            return Responses.json(body, status: .serviceUnavailable, headers: [.retryAfter: String(retryAfter)])
        }
        return Responses.json(body)
    }
}
