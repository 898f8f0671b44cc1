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

    /// The query name of a job's own time limit, in seconds: `?size=200x200&time_limit=2.5`. A worker applies
    /// the shorter of it and its own (`gearbox worker --time-limit`).
    public static let timeLimitOption = "time_limit"

    /// The job's `time_limit`, if it gave one; throws for a value that is not a positive number of seconds.
    public var timeLimit: Duration? {
        get throws {
            guard let text = options.items.last(where: { $0.name == Self.timeLimitOption })?.value else { return nil }
            guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw ImagingError.invalidOption(
                    name: Self.timeLimitOption, value: text, expected: "seconds, more than 0 and at most 86400")
            }
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
    }

    /// The options that describe the image to make, without the time limit.
    public var processingOptions: QueryItems {
        QueryItems(options.items.filter { $0.name != Self.timeLimitOption })
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
