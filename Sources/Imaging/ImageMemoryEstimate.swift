/// What one image job is expected to hold at its peak, from what it asks for and before anything is decoded:
/// the pixels of the box it makes, at a cost per pixel of the format it writes, plus what decoding and
/// libvips' buffers take. The costs are bounds with room for the buffers around a job, set from `gearbox
/// thumbnail` on a 4000x2250 photograph (peak resident memory above the 50 MB of the process at rest): AVIF
/// into 3200x2400, 153 MB, into 1600x1200, 75 MB; WebP into 3200x2400, 74 MB; JPEG into 3200x2400, 40 MB. With
/// AVIF at 20 bytes a pixel instead of 30, the 3200x2400 AVIF could run beside another large job, and
/// `bench/front-memory.sh` peaked at 419 MB instead of 332.
enum ImageMemoryEstimate {
    static func thumbnail(_ options: ThumbnailOptions, inputPrefix: some Collection<UInt8>, limits: ImageLimits) -> Int
    {
        let box = options.size
        let pixels = box.width.flatMap { width in box.height.map { width * $0 } }
        return bytes(pixels: pixels, format: options.output.format ?? writtenFormat(inputPrefix), limits: limits)
    }

    static func resize(_ options: ResizeOptions, inputPrefix: some Collection<UInt8>, limits: ImageLimits) -> Int {
        let pixels: Int?
        switch options.extent {
        case .box(let width, let height): pixels = width * height
        case .width(let side), .height(let side): pixels = side * side
        case .scale: pixels = nil
        }
        return bytes(pixels: pixels, format: options.output.format ?? writtenFormat(inputPrefix), limits: limits)
    }

    /// Unknown pixels (a box open on one side, a scale) count as the most an output may have.
    private static func bytes(pixels: Int?, format: ImageFormat?, limits: ImageLimits) -> Int {
        let most = Int(limits.maxMegapixels * 1_000_000)
        let counted = min(pixels ?? most, most)
        let megabyte = 1 << 20
        switch format {
        case .avif: return counted * 30 + 24 * megabyte
        case .webp: return counted * 10 + 8 * megabyte
        default: return counted * 5 + 8 * megabyte
        }
    }

    /// The format an output takes by default, when the input is one of the costly ones to write: an AVIF stays
    /// AVIF and a WebP stays WebP. nil: any other.
    private static func writtenFormat(_ prefix: some Collection<UInt8>) -> ImageFormat? {
        let head = Array(prefix.prefix(12))
        guard head.count == 12 else { return nil }
        if head[4..<12].elementsEqual("ftypavif".utf8) { return .avif }
        if head[0..<4].elementsEqual("RIFF".utf8) && head[8..<12].elementsEqual("WEBP".utf8) { return .webp }
        return nil
    }
}
