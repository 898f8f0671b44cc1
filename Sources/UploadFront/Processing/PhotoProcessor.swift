import Imaging
import Logging
import NIOCore

/// Turns one uploaded photo into every configured size: checks its header locally (so that a bad or huge
/// image gets a clean 422 or 413 without touching the farm), stores the original, starts every size's job
/// at once and waits for them together. A size that fails is reported as such; the others are kept.
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
        guard await farm.report().ready else {
            throw FrontError.noWorker(function: configuration.function, retryAfter: configuration.retryAfterSeconds)
        }

        let id = PhotoStore.newID()
        let store = self.store
        let original = try store.write(id: id, name: "original", format: info.format, bytes: image)
        var result = PhotoResult(
            id: id, filename: filename,
            original: PhotoResult.Image(
                url: "/photos/\(id)/original", width: info.displayWidth, height: info.displayHeight,
                bytes: original, format: info.format.rawValue, contentType: info.format.mimeType))

        let dispatcher = self.dispatcher
        let retryAfter = configuration.retryAfterSeconds
        result.sizes = await withTaskGroup(of: (String, PhotoResult.Image).self) { group in
            for named in configuration.sizes {
                group.addTask {
                    do {
                        let output = try await dispatcher.resize(image, to: named.size)
                        let bytes = try store.write(id: id, name: named.name, format: output.info.format, bytes: output.bytes)
                        return (named.name, PhotoResult.Image(
                            url: "/photos/\(id)/\(named.name)", width: output.info.displayWidth,
                            height: output.info.displayHeight, bytes: bytes, format: output.info.format.rawValue,
                            contentType: output.info.format.mimeType, ms: output.jobTime.milliseconds,
                            queuedMs: output.queueTime.milliseconds))
                    } catch {
                        let failure = FrontError(job: error, retryAfter: retryAfter)
                        return (named.name, PhotoResult.Image(error: failure.reason, status: Int(failure.status.code)))
                    }
                }
            }
            var sizes: [String: PhotoResult.Image] = [:]
            for await (name, image) in group { sizes[name] = image }
            return sizes
        }
        result.ms = (ContinuousClock.now - started).milliseconds
        if !result.succeeded, let first = configuration.sizes.first.flatMap({ result.sizes[$0.name] }) {
            // Nothing to show for it: the photo is not kept.
            store.remove(id: id)
            result.id = nil
            result.original = nil
            result.error = first.error
            result.status = first.status
            logger.notice("every size failed", metadata: ["id": "\(id)", "reason": "\(first.error ?? "")"])
        }
        return result
    }
}
