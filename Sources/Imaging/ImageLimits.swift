/// What an input may be before any pixel is decoded: the guard against decompression bombs and
/// oversized uploads. Not an option a request can set: the service decides.
public struct ImageLimits: Sendable, Hashable {
    /// The largest input, in bytes.
    public var maxInputBytes: Int
    /// The most pixels an input may decode to, width x height x pages loaded, in millions.
    /// Also bounds the output.
    public var maxMegapixels: Double

    public init(maxInputBytes: Int = 50_000_000, maxMegapixels: Double = 50) {
        self.maxInputBytes = maxInputBytes
        self.maxMegapixels = maxMegapixels
    }

    /// Defaults for untrusted uploads: 50 MB, 50 MP.
    public static let `default` = ImageLimits()

    /// Throws ``ImagingError/tooManyPixels(width:height:pages:limitMegapixels:)`` when
    /// `width` x `height` x `pages` is above the limit.
    public func checkPixels(width: Int, height: Int, pages: Int = 1) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        let (total, overflow2) = pixels.multipliedReportingOverflow(by: max(1, pages))
        if overflow || overflow2 || Double(total) > maxMegapixels * 1_000_000 {
            throw ImagingError.tooManyPixels(
                width: width, height: height, pages: pages, limitMegapixels: maxMegapixels)
        }
    }

    static func format(megapixels: Double) -> String {
        megapixels == megapixels.rounded() && abs(megapixels) < 1e15
            ? String(Int(megapixels)) : String(megapixels)
    }
}
