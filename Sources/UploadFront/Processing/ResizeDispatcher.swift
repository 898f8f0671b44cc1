import Gearman
import ImageFarm
import Imaging
import NIOCore

/// Submits one job per size to the farm, all at once, each holding a slot of the shared `JobLimiter` while
/// it runs. Each result's dimensions come from decoding its header, not from trusting the worker.
public struct ResizeDispatcher: Sendable {
    public let client: GearmanClient
    public let limiter: JobLimiter
    public let function: String
    public let timeout: Duration
    let processor: ImageProcessor

    /// One size's finished job.
    public struct Output: Sendable {
        public var bytes: ByteBuffer
        public var info: ImageInfo
        /// From submitting to the result, as the front saw it.
        public var jobTime: Duration
        /// Waiting for a slot before submitting.
        public var queueTime: Duration
    }

    public init(client: GearmanClient, limiter: JobLimiter, function: String, timeout: Duration, processor: ImageProcessor) {
        self.client = client
        self.limiter = limiter
        self.function = function
        self.timeout = timeout
        self.processor = processor
    }

    /// Runs the job for `size` on `image`; throws the job's `GearmanError` or the result's `ImagingError`.
    public func resize(_ image: ByteBuffer, to size: ImageSize) async throws -> Output {
        let workload = ImageJobRequest.workload(
            options: QueryItems([QueryItem(name: "size", value: size.description)]), image: image)
        let queued = ContinuousClock.now
        return try await limiter.withSlot {
            let started = ContinuousClock.now
            let bytes = try await client.submit(function, workload: workload, timeout: timeout)
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
