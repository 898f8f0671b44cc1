#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why an image was refused or could not be processed. The description is a short reason meant
/// for people: `too large: 100000x100000 exceeds 50 MP`, `not an image`, `truncated JPEG`.
public enum ImagingError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// Zero bytes.
    case emptyInput
    /// No loader recognises the bytes.
    case notAnImage
    /// Recognised, but not one of the formats this module accepts (see ``ImageFormat``).
    case unsupportedFormat(String)
    /// More bytes than ``ImageLimits/maxInputBytes``.
    case tooManyBytes(bytes: Int, limit: Int)
    /// The header claims more pixels than ``ImageLimits/maxMegapixels``; `pages` counts frames loaded.
    case tooManyPixels(width: Int, height: Int, pages: Int, limitMegapixels: Double)
    /// A progressive JPEG or interlaced PNG above ``ImageLimits/maxInterlacedMegapixels``.
    case tooManyInterlacedPixels(width: Int, height: Int, limitMegapixels: Double)
    /// More frames than ``ImageLimits/maxFrames``.
    case tooManyFrames(frames: Int, limit: Int)
    /// Decoding and resampling ran past ``ImageLimits/timeLimit`` and libvips was stopped.
    case timeLimitExceeded(Duration)
    /// The data ends early.
    case truncated(ImageFormat?)
    /// The decoder failed for another reason; `message` is libvips'.
    case corrupt(ImageFormat?, message: String)
    /// The encoder failed; `message` is libvips'.
    case cannotWrite(ImageFormat, message: String)
    /// An option name nobody knows.
    case unknownOption(String, known: [String])
    /// An option given twice.
    case duplicateOption(String)
    /// An option value that does not parse or is out of range.
    case invalidOption(name: String, value: String, expected: String)
    /// Options that are each valid but do not go together, or a required one that is absent.
    case invalidOptions(String)
    /// Any other libvips failure, with its message.
    case libvips(String)
    /// The processor's thread pool has been shut down.
    case processorShutDown

    public var description: String {
        switch self {
        case .emptyInput:
            return "not an image: empty input"
        case .notAnImage:
            return "not an image"
        case .unsupportedFormat(let name):
            return "unsupported image format: \(name)"
        case .tooManyBytes(let bytes, let limit):
            return "too large: \(bytes) bytes exceeds \(limit) bytes"
        case .tooManyPixels(let width, let height, let pages, let limit):
            let pagesText = pages > 1 ? "x\(pages) pages" : ""
            return "too large: \(width)x\(height)\(pagesText) exceeds \(ImageLimits.format(megapixels: limit)) MP"
        case .tooManyInterlacedPixels(let width, let height, let limit):
            return "too large: progressive \(width)x\(height) exceeds \(ImageLimits.format(megapixels: limit)) MP"
        case .tooManyFrames(let frames, let limit):
            return "too large: \(frames) frames exceeds \(limit) frames"
        case .timeLimitExceeded(let limit):
            return "time limit: stopped after \(limit.formattedSeconds) s"
        case .truncated(let format):
            return "truncated \(format?.displayName ?? "image")"
        case .corrupt(let format, let message):
            let name = "corrupt \(format?.displayName ?? "image")"
            return message.isEmpty ? name : "\(name): \(message)"
        case .cannotWrite(let format, let message):
            return "cannot write \(format.displayName): \(message)"
        case .unknownOption(let name, let known):
            return "unknown option '\(name)' (known: \(known.joined(separator: ", ")))"
        case .duplicateOption(let name):
            return "option '\(name)' given more than once"
        case .invalidOption(let name, let value, let expected):
            return "bad \(name) '\(value)': expected \(expected)"
        case .invalidOptions(let reason):
            return reason
        case .libvips(let message):
            return "libvips: \(message)"
        case .processorShutDown:
            return "image processor is shut down"
        }
    }

    public var errorDescription: String? { description }

    /// Classifies a libvips failure while decoding an image of `format`: truncated when the
    /// message says so or the input lacks its format's ending (libvips' process-wide error buffer
    /// can lose a message to another thread clearing it), otherwise corrupt.
    static func decoding(_ format: ImageFormat?, _ message: String, input: UnsafeRawBufferPointer? = nil) -> ImagingError {
        if let format, let input, format.looksTruncated(input) {
            return .truncated(format)
        }
        let lower = message.lowercased()
        let truncationMarkers = [
            "premature end", "truncated", "unexpected end", "end of file", "not enough data",
            "read error",
        ]
        if truncationMarkers.contains(where: lower.contains) {
            return .truncated(format)
        }
        return .corrupt(format, message: message)
    }
}

extension Duration {
    /// Seconds with up to three decimals: `2`, `0.25`; as messages and the `time_limit` job option write them.
    public var formattedSeconds: String {
        let milliseconds = Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
        if milliseconds % 1000 == 0 { return String(milliseconds / 1000) }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
