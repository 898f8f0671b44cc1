#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why an image was refused or could not be processed.
///
/// Tell failures apart by ``code``, whose values are stable across versions (new ones may be added); the
/// description is a short reason meant for people: `too large: 100000x100000 exceeds 50 MP`, `not an image`,
/// `truncated JPEG`. Image workers send the code ahead of the reason in WORK_EXCEPTION
/// (`TOO_MANY_PIXELS: too large: ...`), so clients can read it too.
public struct ImagingError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// What kind of refusal or failure, as a stable name (``rawValue``, such as `TOO_MANY_PIXELS`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        /// A code by its name, or nil for a name this version does not know.
        public init?(rawValue: String) {
            guard let known = Self.all.first(where: { $0.rawValue == rawValue }) else { return nil }
            self = known
        }

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// Zero bytes.
        public static let emptyInput = Code("EMPTY_INPUT")
        /// No loader recognises the bytes.
        public static let notAnImage = Code("NOT_AN_IMAGE")
        /// Recognised, but not one of the formats this module accepts (see ``ImageFormat``).
        public static let unsupportedFormat = Code("UNSUPPORTED_FORMAT")
        /// More bytes than ``ImageLimits/maxInputBytes``.
        public static let tooManyBytes = Code("TOO_MANY_BYTES")
        /// The header claims more pixels than ``ImageLimits/maxMegapixels``.
        public static let tooManyPixels = Code("TOO_MANY_PIXELS")
        /// A progressive JPEG or interlaced PNG above ``ImageLimits/maxInterlacedMegapixels``.
        public static let tooManyInterlacedPixels = Code("TOO_MANY_INTERLACED_PIXELS")
        /// More frames than ``ImageLimits/maxFrames``.
        public static let tooManyFrames = Code("TOO_MANY_FRAMES")
        /// Decoding and resampling ran past ``ImageLimits/timeLimit`` and libvips was stopped.
        public static let timeLimitExceeded = Code("TIME_LIMIT_EXCEEDED")
        /// The data ends early.
        public static let truncated = Code("TRUNCATED")
        /// The decoder failed for another reason.
        public static let corrupt = Code("CORRUPT")
        /// The encoder failed.
        public static let cannotWrite = Code("CANNOT_WRITE")
        /// An option name nobody knows.
        public static let unknownOption = Code("UNKNOWN_OPTION")
        /// An option given twice.
        public static let duplicateOption = Code("DUPLICATE_OPTION")
        /// An option value that does not parse or is out of range.
        public static let invalidOption = Code("INVALID_OPTION")
        /// Options that are each valid but do not go together, or a required one that is absent.
        public static let invalidOptions = Code("INVALID_OPTIONS")
        /// Any other libvips failure.
        public static let libvips = Code("LIBVIPS")
        /// The processor's thread pool has been shut down.
        public static let processorShutDown = Code("PROCESSOR_SHUT_DOWN")

        private static let all: [Code] = [
            .emptyInput, .notAnImage, .unsupportedFormat, .tooManyBytes, .tooManyPixels, .tooManyInterlacedPixels,
            .tooManyFrames, .timeLimitExceeded, .truncated, .corrupt, .cannotWrite, .unknownOption, .duplicateOption,
            .invalidOption, .invalidOptions, .libvips, .processorShutDown,
        ]

        /// The input is over one of the byte, pixel or frame limits (HTTP's 413, where the rest is 422).
        public var isOverLimit: Bool {
            self == .tooManyBytes || self == .tooManyPixels || self == .tooManyInterlacedPixels
                || self == .tooManyFrames
        }

        public var description: String { rawValue }
    }

    public var code: Code
    /// The reason, for people.
    public var reason: String
    /// The image's format, where the failure is about one.
    public var format: ImageFormat?

    public init(code: Code, reason: String, format: ImageFormat? = nil) {
        self.code = code
        self.reason = reason
        self.format = format
    }

    public var description: String { reason }

    public var errorDescription: String? { description }

    public static let emptyInput = ImagingError(code: .emptyInput, reason: "not an image: empty input")

    public static let notAnImage = ImagingError(code: .notAnImage, reason: "not an image")

    public static func unsupportedFormat(_ name: String) -> ImagingError {
        ImagingError(code: .unsupportedFormat, reason: "unsupported image format: \(name)")
    }

    public static func tooManyBytes(bytes: Int, limit: Int) -> ImagingError {
        ImagingError(code: .tooManyBytes, reason: "too large: \(bytes) bytes exceeds \(limit) bytes")
    }

    /// `pages` counts the frames loaded.
    public static func tooManyPixels(width: Int, height: Int, pages: Int, limitMegapixels: Double) -> ImagingError {
        let pagesText = pages > 1 ? "x\(pages) pages" : ""
        return ImagingError(
            code: .tooManyPixels,
            reason:
                "too large: \(width)x\(height)\(pagesText) exceeds \(ImageLimits.format(megapixels: limitMegapixels)) MP"
        )
    }

    public static func tooManyInterlacedPixels(width: Int, height: Int, limitMegapixels: Double) -> ImagingError {
        ImagingError(
            code: .tooManyInterlacedPixels,
            reason:
                "too large: progressive \(width)x\(height) exceeds \(ImageLimits.format(megapixels: limitMegapixels)) MP"
        )
    }

    public static func tooManyFrames(frames: Int, limit: Int) -> ImagingError {
        ImagingError(code: .tooManyFrames, reason: "too large: \(frames) frames exceeds \(limit) frames")
    }

    public static func timeLimitExceeded(_ limit: Duration) -> ImagingError {
        ImagingError(code: .timeLimitExceeded, reason: "time limit: stopped after \(limit.formattedSeconds) s")
    }

    public static func truncated(_ format: ImageFormat?) -> ImagingError {
        ImagingError(code: .truncated, reason: "truncated \(format?.displayName ?? "image")", format: format)
    }

    /// `message` is libvips'.
    public static func corrupt(_ format: ImageFormat?, message: String) -> ImagingError {
        let name = "corrupt \(format?.displayName ?? "image")"
        return ImagingError(code: .corrupt, reason: message.isEmpty ? name : "\(name): \(message)", format: format)
    }

    /// `message` is libvips'.
    public static func cannotWrite(_ format: ImageFormat, message: String) -> ImagingError {
        ImagingError(code: .cannotWrite, reason: "cannot write \(format.displayName): \(message)", format: format)
    }

    public static func unknownOption(_ name: String, known: [String]) -> ImagingError {
        ImagingError(code: .unknownOption, reason: "unknown option '\(name)' (known: \(known.joined(separator: ", ")))")
    }

    public static func duplicateOption(_ name: String) -> ImagingError {
        ImagingError(code: .duplicateOption, reason: "option '\(name)' given more than once")
    }

    public static func invalidOption(name: String, value: String, expected: String) -> ImagingError {
        ImagingError(code: .invalidOption, reason: "bad \(name) '\(value)': expected \(expected)")
    }

    public static func invalidOptions(_ reason: String) -> ImagingError {
        ImagingError(code: .invalidOptions, reason: reason)
    }

    public static func libvips(_ message: String) -> ImagingError {
        ImagingError(code: .libvips, reason: "libvips: \(message)")
    }

    public static let processorShutDown = ImagingError(code: .processorShutDown, reason: "image processor is shut down")

    /// Classifies a libvips failure while decoding an image of `format`: truncated when the
    /// message says so or the input lacks its format's ending (libvips' process-wide error buffer
    /// can lose a message to another thread clearing it), otherwise corrupt.
    static func decoding(_ format: ImageFormat?, _ message: String, input: UnsafeRawBufferPointer? = nil)
        -> ImagingError
    {
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
