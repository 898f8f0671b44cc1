/// An image file format. All of them can be read; ``isWritable`` ones can also be written.
public enum ImageFormat: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case jpeg
    case png
    case webp
    case avif
    case gif
    /// HEIC and other HEIF files that are not AVIF (read only).
    case heif
    /// TIFF (read only).
    case tiff

    /// The formats an output can be asked for.
    public static let writable: [ImageFormat] = [.jpeg, .png, .webp, .avif, .gif]

    /// Parses an option value or file extension: `jpeg`/`jpg`, `png`, `webp`, `avif`, `gif`,
    /// `heif`/`heic`, `tiff`/`tif`, any case.
    public init?(name: String) {
        switch name.lowercased() {
        case "jpeg", "jpg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "avif": self = .avif
        case "gif": self = .gif
        case "heif", "heic": self = .heif
        case "tiff", "tif": self = .tiff
        default: return nil
        }
    }

    /// As ``init(name:)``, for an output: nil for a format this module can read but not write.
    public init?(writableName name: String) {
        guard let format = ImageFormat(name: name), format.isWritable else { return nil }
        self = format
    }

    /// The format a libvips loader reads, from its nickname (`jpegload_buffer`) or class name
    /// (`VipsForeignLoadJpegBuffer`); nil for loaders this module does not accept (SVG, PDF, ...).
    init?(loader: String) {
        switch ImageFormat.loaderFormatName(loader) {
        case "jpeg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "gif", "nsgif": self = .gif
        case "heif": self = .heif
        case "tiff": self = .tiff
        default: return nil
        }
    }

    /// `VipsForeignLoadJpegBuffer` and `jpegload_buffer` both give `jpeg`.
    static func loaderFormatName(_ loader: String) -> String {
        var name = loader.lowercased()
        for prefix in ["vipsforeignload"] where name.hasPrefix(prefix) {
            name.removeFirst(prefix.count)
        }
        for suffix in ["_buffer", "buffer", "_source", "source", "load"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        return name
    }

    public var isWritable: Bool { ImageFormat.writable.contains(self) }

    /// Whether files of this format can hold several pages or frames.
    public var hasPages: Bool {
        switch self {
        case .gif, .webp, .heif, .avif, .tiff: return true
        case .jpeg, .png: return false
        }
    }

    /// Whether the format keeps an alpha channel.
    public var supportsAlpha: Bool { self != .jpeg }

    public var fileExtension: String {
        switch self {
        case .jpeg: return "jpg"
        case .tiff: return "tif"
        default: return rawValue
        }
    }

    public var mimeType: String {
        "image/\(rawValue)"
    }

    /// The name used in messages: JPEG, PNG, WebP, AVIF, GIF, HEIF, TIFF.
    public var displayName: String {
        switch self {
        case .webp: return "WebP"
        default: return rawValue.uppercased()
        }
    }

    public var description: String { rawValue }

    /// Whether `data` lacks the ending every complete file of this format has: JPEG's EOI marker,
    /// PNG's IEND chunk, GIF's trailer, or the length a WebP's RIFF header promises. Consulted
    /// only after decoding failed, so trailing junk on files that decode is no concern.
    func looksTruncated(_ data: UnsafeRawBufferPointer) -> Bool {
        let bytes = data.bindMemory(to: UInt8.self)
        let count = bytes.count
        switch self {
        case .jpeg:
            // FF D9 cannot occur inside entropy-coded data (FF is stuffed there).
            let tail = bytes[max(0, count - 64)..<count]
            return !zip(tail, tail.dropFirst()).contains { $0 == 0xFF && $1 == 0xD9 }
        case .png:
            let iend: [UInt8] = [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
            let tail = Array(bytes[max(0, count - 64)..<count])
            return tail.count < iend.count
                || !(0...(tail.count - iend.count)).contains { Array(tail[$0..<$0 + iend.count]) == iend }
        case .gif:
            return bytes[max(0, count - 16)..<count].last(where: { $0 != 0 }) != 0x3B
        case .webp:
            guard count >= 12 else { return true }
            let riffSize = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
            return riffSize + 8 > count
        case .avif, .heif, .tiff:
            return false
        }
    }
}
