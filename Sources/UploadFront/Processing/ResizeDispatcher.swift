import Gearman
import ImageFarm
import Imaging
import NIOCore

/// Submits one job per file to the farm, all at once, each holding a slot of the shared `JobLimiter` while
/// it runs. Each result's dimensions come from decoding its header, not from trusting the worker.
public struct ResizeDispatcher: Sendable {
    public let client: GearmanClient
    public let limiter: JobLimiter
    public let function: String
    /// From asking for a slot to the result.
    public let timeout: Duration
    /// Sent with each job: the worker stops libvips after it.
    public let timeLimit: Duration?
    let processor: ImageProcessor

    /// One finished job.
    public struct Output: Sendable {
        public var bytes: ByteBuffer
        public var info: ImageInfo
        /// From submitting to the result, as the front saw it.
        public var jobTime: Duration
        /// Waiting for a slot before submitting.
        public var queueTime: Duration
    }

    public init(
        client: GearmanClient, limiter: JobLimiter, function: String, timeout: Duration, timeLimit: Duration? = nil,
        processor: ImageProcessor
    ) {
        self.client = client
        self.limiter = limiter
        self.function = function
        self.timeout = timeout
        self.timeLimit = timeLimit
        self.processor = processor
    }

    /// Makes `variant` from `image`; throws the job's `GearmanError`, the result's `ImagingError`, or the
    /// limiter's `Refusal`.
    public func make(_ variant: PhotoVariant, from image: ByteBuffer) async throws -> Output {
        try await run(options: variant.jobOptions(timeLimit: timeLimit), image: image)
    }

    /// Runs the job for `size` on `image`, in the input's format.
    public func resize(_ image: ByteBuffer, to size: ImageSize) async throws -> Output {
        try await run(options: QueryItems([QueryItem(name: "size", value: size.description)]), image: image)
    }

    /// Runs one job with `options` (and the time limit) under `unique`: the job servers coalesce it with any
    /// other front's job for the same key, and a server with a result cache answers it from there.
    public func transform(_ image: ByteBuffer, options: ThumbnailOptions, unique: String) async throws -> Output {
        var items = options.queryItems.items
        if let timeLimit {
            items.append(QueryItem(name: ImageJobRequest.timeLimitOption, value: timeLimit.formattedSeconds))
        }
        return try await run(options: QueryItems(items), image: image, unique: unique)
    }

    private func run(options: QueryItems, image: ByteBuffer, unique: String? = nil) async throws -> Output {
        let queued = ContinuousClock.now
        return try await limiter.withSlot(timeout: timeout) {
            // Made once the job has its slot: a job that waits holds no copy of the photo.
            let workload = ImageJobRequest.workload(options: options, image: image)
            let started = ContinuousClock.now
            let remaining = max(.milliseconds(1), timeout - (started - queued))
            let bytes = try await client.submit(function, workload: workload, unique: unique, timeout: remaining)
            let finished = ContinuousClock.now
            let info = try await processor.info(bytes)
            return Output(bytes: bytes, info: info, jobTime: finished - started, queueTime: started - queued)
        }
    }
}

extension Duration {
    /// Milliseconds with one decimal place.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 10).rounded() / 10
    }
}
