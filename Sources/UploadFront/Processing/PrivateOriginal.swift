import Imaging
import NIOCore
import PhotoMetadata

/// The original as the front keeps and serves it: without location, camera, maker notes, XMP, IPTC,
/// comments, embedded thumbnails or extra images, with its pixels, colour profile and orientation.
///
/// JPEG, PNG and WebP are rewritten at the container level (`PhotoMetadata`): the compressed pixels and the
/// ICC profile are copied byte for byte and orientation stays in a minimal EXIF block. Other formats (GIF,
/// AVIF, HEIC, TIFF) cannot be rewritten that way here; libvips writes them again, without metadata and
/// upright: GIF as GIF (every frame), the others as lossless PNG in sRGB.
struct PrivateOriginal: Sendable {
    var bytes: ByteBuffer
    var format: ImageFormat
    var removed: Set<RemovedMetadata>

    static func make(
        from image: ByteBuffer, info: ImageInfo, keeping kept: Set<KeptMetadata>, processor: ImageProcessor
    ) async throws -> PrivateOriginal {
        switch info.format {
        case .jpeg, .png, .webp:
            do {
                let scrubbed = try MetadataScrubber.scrub(Array(image.readableBytesView), keeping: kept)
                return PrivateOriginal(
                    bytes: ByteBuffer(bytes: scrubbed.bytes), format: info.format, removed: scrubbed.removed)
            } catch .truncated {
                throw FrontError(imaging: .truncated(info.format))
            } catch {
                throw FrontError(imaging: .corrupt(info.format, message: "\(error)"))
            }
        case .gif, .avif, .heif, .tiff:
            let gif = info.format == .gif
            let options = ThumbnailOptions(
                size: try ImageSize(width: ImageSize.maximumDimension, height: ImageSize.maximumDimension, mode: .down),
                animated: gif, output: OutputOptions(format: gif ? .gif : .png, strip: true))
            let encoded = try await processor.thumbnail(image, options: options)
            return PrivateOriginal(bytes: ByteBuffer(bytes: encoded.bytes), format: encoded.format, removed: [.other])
        }
    }
}
