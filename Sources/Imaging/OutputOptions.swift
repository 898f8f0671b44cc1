/// How a result is encoded. Query names: `format`, `quality`, `strip`, `interlace`.
public struct OutputOptions: Sendable, Hashable {
    /// nil: the input's format (JPEG for inputs that cannot be written, PNG if they have alpha).
    public var format: ImageFormat?
    /// 1...100 for JPEG, WebP and AVIF; nil: libvips' default (75 for JPEG). Ignored by PNG and GIF.
    public var quality: Int?
    /// Drop metadata (EXIF, XMP, ICC). Pixels are in sRGB first, so colours stay right.
    public var strip: Bool
    /// Progressive JPEG or interlaced PNG (needs the whole image in memory to write).
    public var interlace: Bool

    public init(format: ImageFormat? = nil, quality: Int? = nil, strip: Bool = true, interlace: Bool = false) {
        self.format = format
        self.quality = quality
        self.strip = strip
        self.interlace = interlace
    }

    /// The query names these options read.
    public static let optionNames = ["format", "quality", "strip", "interlace"]

    /// Reads `format`, `quality`, `strip`, `interlace`; absent ones keep the values of `defaults`.
    init(_ reader: OptionReader, defaults: OutputOptions) throws {
        self = defaults
        if let format = try reader.value(
            "format", expected: "one of jpeg, png, webp, avif, gif", ImageFormat.init(writableName:))
        {
            self.format = format
        }
        if let quality = try reader.int("quality", in: 1...100) { self.quality = quality }
        if let strip = try reader.bool("strip") { self.strip = strip }
        if let interlace = try reader.bool("interlace") { self.interlace = interlace }
    }

    var queryItems: [QueryItem] {
        var items: [QueryItem] = []
        if let format { items.append(QueryItem(name: "format", value: format.rawValue)) }
        if let quality { items.append(QueryItem(name: "quality", value: String(quality))) }
        items.append(QueryItem(name: "strip", value: String(strip)))
        if interlace { items.append(QueryItem(name: "interlace", value: "true")) }
        return items
    }
}
