import Imaging
import NIOCore

/// A workload split into its options and its image: `?size=320x240&format=webp\n<image bytes>`, or just
/// `<image bytes>`. No image format starts with `?`, so the first byte tells which.
public struct ImageJobRequest: Sendable {
    public static let maximumOptionsLineLength = 4096

    public var options: QueryItems
    /// A slice of the workload: the image is not copied.
    public var image: ByteBuffer

    public init(workload: ByteBuffer) throws {
        guard workload.readableBytesView.first == UInt8(ascii: "?") else {
            options = QueryItems([QueryItem]())
            image = workload
            return
        }
        let searched = workload.readableBytesView.prefix(Self.maximumOptionsLineLength + 1)
        guard let newline = searched.firstIndex(of: UInt8(ascii: "\n")) else {
            throw ImageJobError.optionsLineNotTerminated(limit: Self.maximumOptionsLineLength)
        }
        var rest = workload
        let lineLength = newline - workload.readerIndex
        guard var line = rest.readString(length: lineLength) else {
            throw ImageJobError.optionsLineNotText
        }
        rest.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") {
            line.removeLast()
        }
        options = QueryItems(parsing: line)
        image = rest
    }

    /// The workload for `options` and `image`, as a client sends it.
    public static func workload(options: QueryItems, image: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        if !options.items.isEmpty {
            buffer.writeString("?\(options.encoded)\n")
        }
        buffer.writeImmutableBuffer(image)
        return buffer
    }
}
