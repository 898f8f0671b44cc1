import GearboxMetrics
import GearmanServer
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The job server's operator port (`gearbox server --metrics-port`): the dashboard at `/`, the same data as
/// JSON under `/api/`, and `/metrics` when an exposition is given. A Hummingbird application, run as a
/// `Service` in the server's `ServiceGroup`.
public struct OperatorEndpoint: Service {
    public let host: String
    public let port: Int
    public let routes: OperatorRoutes
    private let logger: Logger
    private let onServerRunning: @Sendable (Int) async -> Void

    /// - Parameters:
    ///   - port: 0 lets the kernel pick one; `onServerRunning` is told which.
    ///   - beforeScrape: brings derived metrics up to date just before each scrape of `/metrics`.
    ///   - onServerRunning: called with the bound port once the port accepts connections.
    public init(
        host: String, port: Int, view: OperatorView, exposition: PrometheusExposition?,
        beforeScrape: @escaping @Sendable () -> Void = {}, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.routes = OperatorRoutes(view: view, exposition: exposition, beforeScrape: beforeScrape)
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    public func run() async throws {
        let router = Router(context: OperatorRequestContext.self)
        routes.register(on: router)
        let host = self.host
        let port = self.port
        let logger = self.logger
        let onServerRunning = self.onServerRunning
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "gearbox"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.notice("operator port listening", metadata: ["operator.url": "http://\(host):\(bound)/"])
                await onServerRunning(bound)
            },
            logger: logger)
        try await app.run()
    }
}
