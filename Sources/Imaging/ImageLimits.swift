/// What an input may be before any pixel is decoded, and how long decoding it may take: the guard against
/// decompression bombs, oversized uploads and images that cost far more than their size suggests. Not an
/// option a request can set: the service decides (a job may only ask for a shorter time limit).
public struct ImageLimits: Sendable, Hashable {
    /// The largest input, in bytes.
    public var maxInputBytes: Int
    /// The most pixels an input may decode to, width x height x pages loaded, in millions.
    /// Also bounds the output.
    public var maxMegapixels: Double
    /// The most pixels of a progressive JPEG or interlaced PNG, in millions. These cannot be decoded a strip
    /// at a time: libjpeg keeps every DCT coefficient of a progressive file in memory (libvips' own figure:
    /// 3.7 GB to thumbnail a large progressive JPEG whose baseline twin takes 72 MB).
    public var maxInterlacedMegapixels: Double
    /// The most frames (pages) a file may declare, whether or not they are all decoded.
    public var maxFrames: Int
    /// How long one image's decoding and resampling may run before libvips is told to stop; nil for no limit.
    public var timeLimit: Duration?

    public init(
        maxInputBytes: Int = 50_000_000, maxMegapixels: Double = 50, maxInterlacedMegapixels: Double = 20,
        maxFrames: Int = 1_000, timeLimit: Duration? = nil
    ) {
        self.maxInputBytes = maxInputBytes
        self.maxMegapixels = maxMegapixels
        self.maxInterlacedMegapixels = maxInterlacedMegapixels
        self.maxFrames = maxFrames
        self.timeLimit = timeLimit
    }

    /// Defaults for untrusted uploads: 50 MB, 50 MP (20 MP progressive), 1,000 frames, no time limit.
    public static let `default` = ImageLimits()

    /// These limits with the shorter of the two time limits.
    public func limitingTime(to limit: Duration?) -> ImageLimits {
        guard let limit else { return self }
        var limits = self
        limits.timeLimit = timeLimit.map { min($0, limit) } ?? limit
        return limits
    }

    /// Throws ``ImagingError/tooManyPixels(width:height:pages:limitMegapixels:)`` when
    /// `width` x `height` x `pages` is above the limit.
    public func checkPixels(width: Int, height: Int, pages: Int = 1) throws {
        if Self.exceeds(width: width, height: height, pages: pages, megapixels: maxMegapixels) {
            throw ImagingError.tooManyPixels(
                width: width, height: height, pages: pages, limitMegapixels: maxMegapixels)
        }
    }

    /// Throws when an interlaced (progressive) image is above ``maxInterlacedMegapixels``.
    func checkInterlaced(width: Int, height: Int) throws {
        if Self.exceeds(width: width, height: height, pages: 1, megapixels: maxInterlacedMegapixels) {
            throw ImagingError.tooManyInterlacedPixels(
                width: width, height: height, limitMegapixels: maxInterlacedMegapixels)
        }
    }

    /// Throws when a file declares more frames than ``maxFrames``.
    func checkFrames(_ frames: Int) throws {
        if frames > maxFrames {
            throw ImagingError.tooManyFrames(frames: frames, limit: maxFrames)
        }
    }

    private static func exceeds(width: Int, height: Int, pages: Int, megapixels: Double) -> Bool {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        let (total, overflow2) = pixels.multipliedReportingOverflow(by: max(1, pages))
        return overflow || overflow2 || Double(total) > megapixels * 1_000_000
    }

    static func format(megapixels: Double) -> String {
        megapixels == megapixels.rounded() && abs(megapixels) < 1e15
            ? String(Int(megapixels)) : String(megapixels)
    }
}
