import CoreMetrics
import Gearman
import GearmanServer
import Imaging
import Logging
import NIOCore

/// A job server and a farm of image workers in this process, on a free loopback port: what `gearbox batch`
/// and `gearbox front` use when no server is named. Jobs still travel through the Gearman protocol, so the
/// code path is the one an external farm takes.
public final class EmbeddedFarm: Sendable {
    public let address: GearmanServerAddress
    public let server: GearmanJobServer
    public let worker: GearmanWorker
    public let processor: ImageProcessor
    private let tasks: [Task<Void, any Error>]

    private init(
        address: GearmanServerAddress, server: GearmanJobServer, worker: GearmanWorker, processor: ImageProcessor,
        tasks: [Task<Void, any Error>]
    ) {
        self.address = address
        self.server = server
        self.worker = worker
        self.processor = processor
        self.tasks = tasks
    }

    /// Starts the server and `concurrency` image workers (one per core by default). With a durable `store`,
    /// background image jobs outlive the process and run after the next start. With `metrics`, the server
    /// and the image jobs record theirs there (`server.configuration.metrics?.update()` before reading).
    public static func start(
        concurrency: Int = System.coreCount,
        functions: [ImageFunction] = ImageFunction.allCases,
        defaults: ImageFunctionDefaults = ImageFunctionDefaults(),
        limits: ImageLimits = .default,
        store: StoreLocation = .memory,
        metrics: (any MetricsFactory)? = nil,
        logger: Logger = Logger(label: "gearbox.farm")
    ) async throws -> EmbeddedFarm {
        let server = try await GearmanJobServer.bind(
            configuration: GearmanServerConfiguration(
                host: "127.0.0.1", port: 0, threads: 1, store: store, metrics: metrics.map { ServerMetrics(factory: $0) }),
            logger: logger)
        let address = GearmanServerAddress(host: "127.0.0.1", port: server.localAddress.port!)
        let processor = try ImageProcessor(configuration: .init(threads: concurrency, limits: limits))
        let worker = GearmanWorker(
            servers: [address], concurrency: concurrency, clientID: "gearbox-embedded-farm", logger: logger)
        ImageWorkerFunctions.register(
            functions, on: worker,
            runner: ImageFunctionRunner(
                processor: processor, defaults: defaults, metrics: metrics.map { ImageJobMetrics(factory: $0) }))
        let tasks = [
            Task { try await server.run() },
            Task { try await worker.run() },
        ]
        return EmbeddedFarm(address: address, server: server, worker: worker, processor: processor, tasks: tasks)
    }

    /// Lets running jobs finish, then stops the workers, the server and the image threads.
    public func stop() async {
        worker.shutdownGracefully()
        _ = await tasks[1].result
        server.shutdown(graceful: true)
        _ = await tasks[0].result
        try? await processor.shutdown()
    }

    /// Runs `body` with a started farm and stops it afterwards, whatever happens.
    public static func with<Result: Sendable>(
        concurrency: Int = System.coreCount,
        defaults: ImageFunctionDefaults = ImageFunctionDefaults(),
        limits: ImageLimits = .default,
        store: StoreLocation = .memory,
        logger: Logger = Logger(label: "gearbox.farm"),
        _ body: (EmbeddedFarm) async throws -> Result
    ) async throws -> Result {
        let farm = try await start(
            concurrency: concurrency, defaults: defaults, limits: limits, store: store, logger: logger)
        do {
            let result = try await body(farm)
            await farm.stop()
            return result
        } catch {
            await farm.stop()
            throw error
        }
    }
}
