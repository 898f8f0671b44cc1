/// An encoded result and what it is.
public struct ProcessedImage: Sendable, Hashable {
    /// The encoded file, byte for byte.
    public var bytes: [UInt8]
    public var format: ImageFormat
    public var width: Int
    /// Height of one page (frame).
    public var height: Int
    /// Frames in the result (more than 1 only for animated GIF/WebP output).
    public var pages: Int

    public init(bytes: [UInt8], format: ImageFormat, width: Int, height: Int, pages: Int = 1) {
        self.bytes = bytes
        self.format = format
        self.width = width
        self.height = height
        self.pages = pages
    }
}
