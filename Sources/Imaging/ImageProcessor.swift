import CVips
import CVipsShim
import NIOCore
import NIOPosix

/// Runs image operations on its own thread pool, never on an event loop or Swift's cooperative
/// pool, so network I/O keeps flowing while images are decoded.
///
/// The pool has ``Configuration/threads`` threads (the core count by default). libvips is set up once per
/// process (``VipsRuntime``), by the first operation of the first processor, which sets its threads per
/// image so that threads x libvips threads is about the core count; later processors share that setting.
/// Call ``shutdown()`` when done.
public final class ImageProcessor: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Images processed at once.
        public var threads: Int
        /// Refusals before decoding.
        public var limits: ImageLimits
        /// The bytes of image memory the jobs may hold at once, by estimate (``MemoryBudget``); a job that
        /// does not fit waits for others to end.
        public var memoryBudget: Int

        public init(threads: Int = System.coreCount, limits: ImageLimits = .default, memoryBudget: Int? = nil) {
            self.threads = max(1, threads)
            self.limits = limits
            self.memoryBudget = memoryBudget ?? Self.defaultMemoryBudget(threads: self.threads)
        }

        /// 64 MiB a thread, and at least 256 MiB: a few hundred 500-pixel JPEGs a second on every thread, while
        /// the 3200x2400 AVIF of a photo runs alone.
        public static func defaultMemoryBudget(threads: Int) -> Int {
            max(256, 64 * threads) << 20
        }
    }

    public let configuration: Configuration
    private let pool: NIOThreadPool
    private let idleMemoryRelease = IdleMemoryRelease()
    private let memoryBudget: MemoryBudget

    /// Starts the thread pool; libvips starts with the first operation, on that pool, so that making a
    /// processor costs nothing and a command can read its first input while libvips loads.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        memoryBudget = MemoryBudget(bytes: configuration.memoryBudget)
        pool = NIOThreadPool(numberOfThreads: configuration.threads)
        pool.start()
    }

    /// Stops the thread pool after queued work finishes; later calls wait for nothing.
    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    // MARK: thumbnail

    /// Shrinks on load to fit `options.size`, applies EXIF orientation, converts to sRGB and
    /// encodes. The fast path. `timeLimit` shortens the configured ``ImageLimits/timeLimit``.
    public func thumbnail(
        _ input: [UInt8], options: ThumbnailOptions = ThumbnailOptions(), timeLimit: Duration? = nil
    ) async throws -> ProcessedImage {
        let limits = configuration.limits.limitingTime(to: timeLimit)
        let bytes = ImageMemoryEstimate.thumbnail(options, inputPrefix: input.prefix(12), limits: limits)
        return try await run(reserving: bytes) {
            try input.withUnsafeBytes { try ImagePipeline.thumbnail($0, options: options, limits: limits) }
        }
    }

    public func thumbnail(
        _ input: ByteBuffer, options: ThumbnailOptions = ThumbnailOptions(), timeLimit: Duration? = nil
    ) async throws -> ProcessedImage {
        let limits = configuration.limits.limitingTime(to: timeLimit)
        let bytes = ImageMemoryEstimate.thumbnail(
            options, inputPrefix: input.readableBytesView.prefix(12), limits: limits)
        return try await run(reserving: bytes) {
            try input.withUnsafeReadableBytes { try ImagePipeline.thumbnail($0, options: options, limits: limits) }
        }
    }

    // MARK: resize

    /// Decodes, applies EXIF orientation, converts to sRGB and resamples.
    public func resize(
        _ input: [UInt8], options: ResizeOptions, timeLimit: Duration? = nil
    ) async throws -> ProcessedImage {
        let limits = configuration.limits.limitingTime(to: timeLimit)
        let bytes = ImageMemoryEstimate.resize(options, inputPrefix: input.prefix(12), limits: limits)
        return try await run(reserving: bytes) {
            try input.withUnsafeBytes { try ImagePipeline.resize($0, options: options, limits: limits) }
        }
    }

    public func resize(
        _ input: ByteBuffer, options: ResizeOptions, timeLimit: Duration? = nil
    ) async throws -> ProcessedImage {
        let limits = configuration.limits.limitingTime(to: timeLimit)
        let bytes = ImageMemoryEstimate.resize(options, inputPrefix: input.readableBytesView.prefix(12), limits: limits)
        return try await run(reserving: bytes) {
            try input.withUnsafeReadableBytes { try ImagePipeline.resize($0, options: options, limits: limits) }
        }
    }

    // MARK: info

    /// Reads the header only. Subject to the same limits as the other operations.
    public func info(_ input: [UInt8]) async throws -> ImageInfo {
        let limits = configuration.limits
        return try await run { try input.withUnsafeBytes { try ImagePipeline.info($0, limits: limits) } }
    }

    public func info(_ input: ByteBuffer) async throws -> ImageInfo {
        let limits = configuration.limits
        return try await run { try input.withUnsafeReadableBytes { try ImagePipeline.info($0, limits: limits) } }
    }

    // MARK: running work

    /// libvips threads per image that fill the cores with this processor's threads.
    private var vipsConcurrency: Int { max(1, System.coreCount / configuration.threads) }

    /// Starts libvips now, with this processor's threads per image, unless this process already has: for a
    /// program whose main processor should set them even if another one's work comes first.
    public func startLibvips() throws {
        try VipsRuntime.start(concurrency: vipsConcurrency)
    }

    /// Runs `body` on the processor's pool. libvips' per-thread buffers are released after each
    /// job (`vips_thread_shutdown`), and the freed pages go back to the system once the pool has been idle
    /// for a second (``IdleMemoryRelease``), so an idle pool holds no image memory.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(reserving: 0, body)
    }

    /// Runs `body` on the pool once `bytes` of the memory budget are free, and gives them back after.
    func run<T: Sendable>(reserving bytes: Int, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let reserved = try await memoryBudget.reserve(bytes)
        defer { memoryBudget.release(reserved) }
        do {
            let vipsConcurrency = self.vipsConcurrency
            let idleMemoryRelease = self.idleMemoryRelease
            return try await pool.runIfActive {
                try VipsRuntime.start(concurrency: vipsConcurrency)
                VipsErrorLog.begin()
                idleMemoryRelease.jobStarted()
                defer {
                    VipsErrorLog.end()
                    vips_thread_shutdown()
                    idleMemoryRelease.jobEnded()
                }
                return try body()
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw ImagingError.processorShutDown
        } catch is CancellationError where !Task.isCancelled {
            // runIfActive reports a pool that has been shut down as a cancellation.
            throw ImagingError.processorShutDown
        }
    }
}
