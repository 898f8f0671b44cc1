import Imaging
import Logging
import NIOCore
import PhotoMetadata

/// Turns one uploaded photo into every file it should have: checks its header locally (so that a bad or
/// huge image gets a clean 422 or 413 without touching the farm), refuses at once with 429 when the job
/// queue cannot take its jobs, stores the original without its private metadata, starts every size's job in
/// every format and density at once and waits for them together. A size whose fallback fails is reported as
/// such; the others are kept.
public struct PhotoProcessor: Sendable {
    public let configuration: FrontConfiguration
    public let dispatcher: ResizeDispatcher
    public let store: PhotoStore
    public let farm: FarmStatus
    let processor: ImageProcessor
    let logger: Logger

    public init(
        configuration: FrontConfiguration, dispatcher: ResizeDispatcher, store: PhotoStore, farm: FarmStatus,
        processor: ImageProcessor, logger: Logger
    ) {
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.store = store
        self.farm = farm
        self.processor = processor
        self.logger = logger
    }

    /// Throws `FrontError` when the photo as a whole is refused; otherwise every size is in the result,
    /// made or with its error.
    public func process(_ image: ByteBuffer, filename: String?) async throws -> PhotoResult {
        let started = ContinuousClock.now
        let limits = configuration.limits
        if image.readableBytes > limits.maxInputBytes {
            throw FrontError(imaging: .tooManyBytes(bytes: image.readableBytes, limit: limits.maxInputBytes))
        }
        let info: ImageInfo
        do {
            info = try await processor.info(image)
        } catch let error as ImagingError {
            throw FrontError(imaging: error)
        }
        let variants = configuration.plan.uploadVariants(hasAlpha: info.hasAlpha)
        guard dispatcher.limiter.admits(variants.count) else {
            throw FrontError.queueFull(retryAfter: configuration.retryAfterSeconds)
        }
        let farmReport = await farm.report()
        guard farmReport.mayTakeJobs else {
            throw FrontError(.serviceUnavailable, farmReport.refusal, retryAfter: configuration.retryAfterSeconds)
        }
        if !farmReport.ready {
            logger.warning(
                "a job server was too slow to say whether a worker is attached; the jobs are sent anyway",
                metadata: ["front.servers": "\(farmReport.servers.filter(\.late).map(\.address))"])
        }

        let original = try await PrivateOriginal.make(
            from: image, info: info, keeping: configuration.keptMetadata, processor: processor)
        let id = PhotoStore.newID()
        let links = PhotoLinks(signer: configuration.signer)
        let storedBytes = try await store.write(
            id: id, name: "original", format: original.format, bytes: original.bytes)
        var result = PhotoResult(
            id: id, filename: filename,
            original: PhotoResult.Image(
                url: links.url(id: id, file: "original"), width: info.displayWidth, height: info.displayHeight,
                bytes: storedBytes, format: original.format.rawValue, contentType: original.format.mimeType,
                removed: original.removed.map(\.rawValue).sorted()))

        // The farm sees the private copy too, unless it had to be re-encoded (then the upload is smaller).
        let source = original.format == info.format ? original.bytes : image
        let made = await make(variants, of: id, from: source)
        result.sizes = links.sizes(id: id, plan: configuration.plan, made: made)
        result.ms = (ContinuousClock.now - started).milliseconds
        if !result.succeeded, let first = configuration.sizes.first.flatMap({ result.sizes[$0.name] }) {
            // Nothing to show for it: the photo is not kept.
            await store.remove(id: id)
            result.id = nil
            result.original = nil
            result.error = first.error
            result.status = first.status
            logger.notice(
                "every size failed", metadata: ["front.photo": "\(id)", "front.reason": "\(first.error ?? "")"])
        } else if !configuration.plan.deferred.isEmpty {
            await queueDeferred(id)
        }
        return result
    }

    /// Queues the photo's background job for its deferred formats (the backfill job: it makes whatever the
    /// photo lacks). Should the queue refuse it, the files are made by the next backfill instead.
    private func queueDeferred(_ id: String) async {
        do {
            try await PhotoBackfill.queue(
                id, function: configuration.backfillFunction, on: dispatcher.client, timeout: configuration.jobTimeout)
        } catch {
            logger.warning(
                "the deferred formats could not be queued; a backfill will make them",
                metadata: ["front.photo": "\(id)", "front.error": "\(error)"])
        }
    }

    /// One variant's outcome.
    struct Made: Sendable {
        var variant: PhotoVariant
        var output: ResizeDispatcher.Output?
        var bytes: Int
        var failure: FrontError?
    }

    /// Runs every variant's job at once and stores each result as it comes.
    func make(_ variants: [PhotoVariant], of id: String, from source: ByteBuffer) async -> [Made] {
        let dispatcher = self.dispatcher
        let store = self.store
        let retryAfter = configuration.retryAfterSeconds
        return await withTaskGroup(of: Made.self) { group in
            for variant in variants {
                group.addTask {
                    do {
                        let output = try await dispatcher.make(variant, from: source)
                        let bytes = try await store.write(
                            id: id, name: variant.name, format: variant.format, bytes: output.bytes)
                        return Made(variant: variant, output: output, bytes: bytes)
                    } catch {
                        return Made(variant: variant, bytes: 0, failure: FrontError(job: error, retryAfter: retryAfter))
                    }
                }
            }
            var made: [Made] = []
            for await one in group { made.append(one) }
            return made
        }
    }
}
