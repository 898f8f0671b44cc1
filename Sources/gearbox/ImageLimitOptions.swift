import ArgumentParser
import Imaging

/// The refusals every command that decodes images shares: bytes, pixels, progressive pixels, frames, and
/// (for the commands that run jobs for others) a time limit.
struct ImageLimitOptions: ParsableArguments {
    @Option(help: "Refuse inputs larger than this many bytes, before decoding.")
    var maxBytes: Int = ImageLimits.default.maxInputBytes

    @Option(help: "Refuse inputs that decode to more megapixels than this, before decoding.")
    var maxMegapixels: Double = ImageLimits.default.maxMegapixels

    @Option(help: "Refuse progressive JPEGs and interlaced PNGs above this many megapixels (they decode whole).")
    var maxProgressiveMegapixels: Double = ImageLimits.default.maxInterlacedMegapixels

    @Option(help: "Refuse files that declare more frames than this.")
    var maxFrames: Int = ImageLimits.default.maxFrames

    func validate() throws {
        guard maxBytes > 0, maxMegapixels > 0, maxProgressiveMegapixels > 0, maxFrames > 0 else {
            throw ValidationError(
                "--max-bytes, --max-megapixels, --max-progressive-megapixels and --max-frames must be above 0")
        }
    }

    func limits(timeLimit: Duration? = nil) -> ImageLimits {
        ImageLimits(
            maxInputBytes: maxBytes, maxMegapixels: maxMegapixels, maxInterlacedMegapixels: maxProgressiveMegapixels,
            maxFrames: maxFrames, timeLimit: timeLimit)
    }
}

extension Duration {
    /// `seconds` (from a command-line flag) as a duration, to the millisecond.
    static func seconds(flag seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
