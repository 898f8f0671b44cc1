import GearboxMetrics
import Hummingbird
import Logging
import ServiceLifecycle

/// `GET /metrics` on a port of its own, for `gearbox server --metrics-port` and `gearbox worker
/// --metrics-port`: a Hummingbird application in the command's `ServiceGroup`.
struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let exposition: PrometheusExposition
    /// Brings derived metrics up to date just before each scrape.
    let beforeScrape: @Sendable () -> Void
    let logger: Logger

    func run() async throws {
        let router = Router()
        exposition.register(on: router, beforeScrape: beforeScrape)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "gearbox-metrics"),
            logger: logger)
        try await app.run()
    }
}
