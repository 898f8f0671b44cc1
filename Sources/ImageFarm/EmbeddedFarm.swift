import CoreMetrics
import Gearman
import GearmanServer
import Imaging
import Logging
import NIOCore
import ServiceLifecycle

/// A job server and a farm of image workers in this process, on a free loopback port: what `gearbox batch`
/// and `gearbox front` use when no server is named. Jobs still travel through the Gearman protocol, so the
/// code path is the one an external farm takes.
///
/// A `Service`: ``bind(concurrency:functions:defaults:limits:store:metrics:resultCache:logger:)`` opens the port,
/// `run()`
/// serves until the surrounding `ServiceGroup` shuts down (or ``shutdown(graceful:)`` is called), then lets
/// running jobs finish, stops the workers before the server, and stops the image threads last.
public final class EmbeddedFarm: StoppableService {
    public let address: GearmanServerAddress
    public let server: GearmanJobServer
    public let worker: GearmanWorker
    public let processor: ImageProcessor
    private let logger: Logger

    private init(
        address: GearmanServerAddress, server: GearmanJobServer, worker: GearmanWorker, processor: ImageProcessor,
        logger: Logger
    ) {
        self.address = address
        self.server = server
        self.worker = worker
        self.processor = processor
        self.logger = logger
    }

    /// Binds the server and registers `concurrency` image workers (one per core by default); nothing runs
    /// until `run()`. With a durable `store`, background image jobs outlive the process and run after the
    /// next start. With `metrics`, the server and the image jobs record theirs there
    /// (`server.configuration.metrics?.update()` before reading). With `resultCache`, the server answers
    /// repeated jobs of the functions it names (same unique key) from their kept results.
    public static func bind(
        concurrency: Int = System.coreCount,
        functions: [ImageFunction] = ImageFunction.allCases,
        defaults: ImageFunctionDefaults = ImageFunctionDefaults(),
        limits: ImageLimits = .default,
        store: StoreLocation = .memory,
        metrics: (any MetricsFactory)? = nil,
        resultCache: ResultCacheConfiguration? = nil,
        logger: Logger = Logger(label: "gearbox.farm")
    ) async throws -> EmbeddedFarm {
        let server = try await GearmanJobServer.bind(
            configuration: GearmanServerConfiguration(
                host: "127.0.0.1", port: 0, threads: 1, store: store,
                metrics: metrics.map { ServerMetrics(factory: $0) }, resultCache: resultCache),
            logger: logger)
        let address = GearmanServerAddress(host: "127.0.0.1", port: server.localAddress.port!)
        let processor = ImageProcessor(configuration: .init(threads: concurrency, limits: limits))
        try processor.startLibvips()
        let worker = GearmanWorker(
            servers: [address], concurrency: concurrency, clientID: "gearbox-embedded-farm", logger: logger)
        ImageWorkerFunctions.register(
            functions, on: worker,
            runner: ImageFunctionRunner(
                processor: processor, defaults: defaults, metrics: metrics.map { ImageJobMetrics(factory: $0) }))
        return EmbeddedFarm(address: address, server: server, worker: worker, processor: processor, logger: logger)
    }

    /// Serves until shut down. The worker and the server run in one `ServiceGroup`, the worker last, so that
    /// a graceful shutdown drains the worker's running jobs before the server stops; either one ending ends
    /// the other.
    public func run() async throws {
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: server, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: logger))
        do {
            try await services.run()
        } catch {
            await processor.shutdown()
            throw error
        }
        await processor.shutdown()
    }

    /// Asks `run()` to return, for a farm run outside a `ServiceGroup`: gracefully, the workers finish their
    /// running jobs first; otherwise everything closes now.
    public func shutdown(graceful: Bool = true) {
        worker.shutdown(graceful: graceful)
        if !graceful {
            server.shutdown(graceful: false)
        }
    }

    /// Runs `body` with a running farm and shuts it down gracefully afterwards, whatever happens.
    public static func with<Result: Sendable>(
        concurrency: Int = System.coreCount,
        defaults: ImageFunctionDefaults = ImageFunctionDefaults(),
        limits: ImageLimits = .default,
        store: StoreLocation = .memory,
        resultCache: ResultCacheConfiguration? = nil,
        logger: Logger = Logger(label: "gearbox.farm"),
        _ body: (EmbeddedFarm) async throws -> Result
    ) async throws -> Result {
        let farm = try await bind(
            concurrency: concurrency, defaults: defaults, limits: limits, store: store, resultCache: resultCache,
            logger: logger)
        return try await farm.withRunning { try await body(farm) }
    }
}
