import Imaging
import NIOConcurrencyHelpers
import NIOCore

/// Makes the results of `/photos/ID/image`: from the disk cache when it holds them, otherwise by one job per
/// key, however many requests ask for it at once. The first request starts the job in a task of its own;
/// the others await that task, so a burst of one new URL sends one submission (and a request that goes away
/// does not cancel the others' job).
public final class TransformMaker: Sendable {
    public let cache: TransformCache
    let store: PhotoStore
    let dispatcher: ResizeDispatcher
    let farm: FarmStatus
    let retryAfter: Int

    private struct State {
        var inFlight: [String: Task<Made, any Error>] = [:]
        var waiting = 0
        var submitted = 0
    }
    private let state = NIOLockedValueBox(State())
    private let fallbacks = NIOLockedValueBox<[String: ImageFormat]>([:])
    private static let rememberedFallbacks = 10_000

    /// A result, and where it came from.
    public struct Made: Sendable {
        public var bytes: ByteBuffer
        public var format: ImageFormat
        /// Read from the disk cache rather than made by a job this front submitted.
        public var cached: Bool
    }

    init(cache: TransformCache, store: PhotoStore, dispatcher: ResizeDispatcher, farm: FarmStatus, retryAfter: Int) {
        self.cache = cache
        self.store = store
        self.dispatcher = dispatcher
        self.farm = farm
        self.retryAfter = retryAfter
    }

    /// Requests waiting for a job of this front's to finish, the one that started it included.
    public var waiting: Int { state.withLockedValue { $0.waiting } }

    /// Jobs this front has submitted for transforms since it started.
    public var submitted: Int { state.withLockedValue { $0.submitted } }

    /// The result named `key`: `options` applied to `original`. Throws `FrontError`.
    func make(_ key: String, options: ThumbnailOptions, original: PhotoStore.StoredFile) async throws -> Made {
        if let hit = await cache.read(key) { return Made(bytes: hit.bytes, format: hit.format, cached: true) }
        let task = state.withLockedValue { state -> Task<Made, any Error> in
            state.waiting += 1
            if let running = state.inFlight[key] { return running }
            let task = Task { try await self.run(key, options: options, original: original) }
            state.inFlight[key] = task
            return task
        }
        defer { state.withLockedValue { $0.waiting -= 1 } }
        do {
            return try await task.value
        } catch {
            throw FrontError(job: error, retryAfter: retryAfter)
        }
    }

    private func run(_ key: String, options: ThumbnailOptions, original: PhotoStore.StoredFile) async throws -> Made {
        defer { _ = state.withLockedValue { $0.inFlight.removeValue(forKey: key) } }
        // A job that finished between this request's look at the cache and its task has stored the result.
        if let hit = await cache.read(key) { return Made(bytes: hit.bytes, format: hit.format, cached: true) }
        let report = await farm.report()
        guard report.mayTakeJobs else { throw FrontError(.serviceUnavailable, report.refusal, retryAfter: retryAfter) }
        let image = try await store.read(original)
        state.withLockedValue { $0.submitted += 1 }
        let output = try await dispatcher.transform(image, options: options, unique: key)
        // A result that cannot be kept (a full disk) is still the answer.
        try? await cache.write(key, format: output.info.format, bytes: output.bytes)
        return Made(bytes: output.bytes, format: output.info.format, cached: false)
    }

    /// The format for a browser that takes none of the modern ones: JPEG, or PNG when the original has
    /// transparency. A JPEG original says so by its name; another is read once, and remembered.
    func fallbackFormat(photo id: String, original: PhotoStore.StoredFile) async throws -> ImageFormat {
        if original.format == .jpeg { return .jpeg }
        if let known = fallbacks.withLockedValue({ $0[id] }) { return known }
        let info = try await dispatcher.processor.info(try await store.read(original))
        let format: ImageFormat = info.hasAlpha ? .png : .jpeg
        fallbacks.withLockedValue { remembered in
            if remembered.count >= Self.rememberedFallbacks { remembered.removeAll(keepingCapacity: true) }
            remembered[id] = format
        }
        return format
    }
}
