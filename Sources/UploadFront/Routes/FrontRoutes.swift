import Gearman
import Hummingbird
import Imaging
import Logging

/// The front's router and what its routes work with, made from its configuration, the job servers' client and
/// an image processor: what `UploadFront` serves, and what the route tests call without a port. `/metrics`
/// is added by `UploadFront`, which owns the exposition.
struct FrontRoutes {
    let router: Router<BasicRequestContext>
    let store: PhotoStore
    let limiter: JobLimiter
    let photos: PhotoProcessor
    let transforms: TransformMaker

    init(
        configuration: FrontConfiguration, servers: [GearmanServerAddress], client: GearmanClient,
        processor: ImageProcessor, logger: Logger
    ) async throws {
        store = try PhotoStore(root: configuration.storage)
        let cache = try await TransformCache.open(
            storage: configuration.storage, budget: configuration.transformCacheBytes)
        limiter = JobLimiter(limit: configuration.maxConcurrentJobs, maxWaiting: configuration.maxQueuedJobs)
        let farm = FarmStatus(servers: servers, function: configuration.function, tls: configuration.serverTLS)
        let dispatcher = ResizeDispatcher(
            client: client, limiter: limiter, function: configuration.function, timeout: configuration.jobTimeout,
            timeLimit: configuration.jobTimeLimit, processor: processor)
        photos = PhotoProcessor(
            configuration: configuration, dispatcher: dispatcher, store: store, farm: farm, processor: processor,
            logger: logger)
        transforms = TransformMaker(
            cache: cache, store: store, dispatcher: dispatcher, farm: farm, retryAfter: configuration.retryAfterSeconds)
        router = Router()
        PageRoutes(configuration: configuration).register(on: router)
        TransformRoutes(configuration: configuration, store: store, maker: transforms).register(on: router)
        PhotoRoutes(configuration: configuration, processor: photos, store: store).register(on: router)
        HealthRoutes(farm: farm, limiter: limiter, retryAfter: configuration.retryAfterSeconds).register(on: router)
    }
}
