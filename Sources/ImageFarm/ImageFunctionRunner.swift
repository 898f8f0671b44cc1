import Imaging
import NIOCore

/// Runs one image job: parses its options line, applies the worker's defaults, and hands the image to the
/// `ImageProcessor`'s thread pool. Errors carry the reason a client should see.
public struct ImageFunctionRunner: Sendable {
    public let processor: ImageProcessor
    public let defaults: ImageFunctionDefaults
    public let metrics: ImageJobMetrics?

    public init(
        processor: ImageProcessor, defaults: ImageFunctionDefaults = ImageFunctionDefaults(),
        metrics: ImageJobMetrics? = nil
    ) {
        self.processor = processor
        self.defaults = defaults
        self.metrics = metrics
    }

    /// The result's bytes: an encoded image, or JSON for `info`.
    public func run(_ function: ImageFunction, workload: ByteBuffer) async throws -> ImageJobResult {
        guard let metrics else { return try await perform(function, workload: workload) }
        let started = NIODeadline.now()
        do {
            let result = try await perform(function, workload: workload)
            metrics.record(
                function, format: result.image?.format, succeeded: true,
                nanoseconds: (NIODeadline.now() - started).nanoseconds)
            return result
        } catch {
            metrics.record(function, format: nil, succeeded: false, nanoseconds: 0)
            throw error
        }
    }

    private func perform(_ function: ImageFunction, workload: ByteBuffer) async throws -> ImageJobResult {
        let request = try ImageJobRequest(workload: workload)
        let timeLimit = try request.timeLimit.map { min($0, defaults.timeLimit) } ?? defaults.timeLimit
        let options = defaults.completed(request.processingOptions, for: function)
        switch function {
        case .thumbnail:
            let image = try await processor.thumbnail(
                request.image, options: try ThumbnailOptions(queryItems: options), timeLimit: timeLimit)
            return ImageJobResult(bytes: image.bytes, image: image)
        case .resize:
            let image = try await processor.resize(
                request.image, options: try ResizeOptions(queryItems: options), timeLimit: timeLimit)
            return ImageJobResult(bytes: image.bytes, image: image)
        case .info:
            guard options.items.isEmpty else {
                throw ImagingError.invalidOptions("info takes no options")
            }
            let info = try await processor.info(request.image)
            return ImageJobResult(bytes: Array(info.json().utf8), image: nil)
        }
    }
}

/// What an image job produced.
public struct ImageJobResult: Sendable {
    public var bytes: [UInt8]
    /// The encoded image's description; nil for `info`.
    public var image: ProcessedImage?
}
