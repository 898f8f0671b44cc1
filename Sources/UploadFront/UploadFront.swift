import GearboxMetrics
import Gearman
import Hummingbird
import ImageFarm
import Imaging
import Logging
import NIOCore
import ServiceLifecycle

/// The upload front: a Hummingbird application that turns each uploaded photo into every configured size on
/// a Gearman farm, all sizes at once. With no servers configured it runs the embedded job server and image
/// workers in this process; otherwise it submits to the given job servers and their workers.
///
/// Run it alone or in a `ServiceGroup`; a graceful shutdown stops taking requests, lets running ones answer,
/// then stops the embedded farm.
public struct UploadFront: Service {
    public let configuration: FrontConfiguration
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void

    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public init(
        configuration: FrontConfiguration, logger: Logger = Logger(label: "gearbox.front"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let configuration = self.configuration
        let exposition = PrometheusExposition()
        var farm: EmbeddedFarm?
        var servers = configuration.servers
        if servers.isEmpty {
            let embedded = try await EmbeddedFarm.bind(
                concurrency: configuration.embeddedWorkers, limits: configuration.limits,
                store: configuration.embeddedStore, metrics: exposition.factory, logger: logger)
            farm = embedded
            servers = [embedded.address]
            logger.info(
                "embedded job server and image workers",
                metadata: [
                    "gearman.server": "\(embedded.address)", "front.workers": "\(configuration.embeddedWorkers)",
                ])
        }
        let processor = ImageProcessor(configuration: .init(threads: 2, limits: configuration.limits))
        let client = GearmanClient(servers: servers, tls: configuration.serverTLS, logger: logger)
        let outcome: (any Error)?
        do {
            try await serve(
                servers: servers, farm: farm, client: client, processor: processor, exposition: exposition,
                beforeScrape: { [farm] in farm?.server.configuration.metrics?.update() })
            outcome = nil
        } catch {
            outcome = error
        }
        await client.shutdown()
        await processor.shutdown()
        if let outcome { throw outcome }
    }

    /// Runs the HTTP server and, beside it in Hummingbird's `ServiceGroup`, the embedded farm (if any) and the
    /// backfill worker; a graceful shutdown stops them in the reverse order: HTTP first, the farm last.
    private func serve(
        servers: [GearmanServerAddress], farm: EmbeddedFarm?, client: GearmanClient, processor: ImageProcessor,
        exposition: PrometheusExposition,
        beforeScrape: @escaping @Sendable () -> Void
    ) async throws {
        let configuration = self.configuration
        let routes = try await FrontRoutes(
            configuration: configuration, servers: servers, client: client, processor: processor, logger: logger)
        MetricsRoutes(
            exposition: exposition, limiter: routes.limiter, transforms: routes.transforms, beforeScrape: beforeScrape
        ).register(on: routes.router)

        let backfill = PhotoBackfill(configuration: configuration, store: routes.store)
        let backfillWorker = GearmanWorker(
            servers: servers, concurrency: 2, clientID: "gearbox-front-backfill", tls: configuration.serverTLS,
            logger: logger)
        backfill.register(on: backfillWorker, processor: routes.photos, images: processor, logger: logger)

        let onListening = self.onListening
        let logger = self.logger
        let backfillAtStart = configuration.backfillAtStart
        let app = Application(
            router: routes.router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "gearbox-front"),
            services: farm.map { [$0, backfillWorker] } ?? [backfillWorker],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("upload front listening", metadata: ["front.url": "http://\(configuration.host):\(port)"])
                await onListening(port)
                if backfillAtStart {
                    do {
                        let queued = try await backfill.queue(client: client)
                        logger.notice("backfill queued", metadata: ["front.photos": "\(queued)"])
                    } catch {
                        logger.error("backfill could not be queued", metadata: ["front.error": "\(error)"])
                    }
                }
            },
            logger: logger)
        try await app.run()
    }
}
