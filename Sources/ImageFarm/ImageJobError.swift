/// Why an image job was refused before libvips saw it. ``code`` is stable across versions, as
/// `ImagingError`'s is, and travels ahead of the reason in WORK_EXCEPTION.
public struct ImageJobError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal, as a stable name.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// The workload's options line is not a line of UTF-8 text.
        public static let badOptionsLine = Code("BAD_OPTIONS_LINE")
        /// A function name that is not one of ``ImageFunction``.
        public static let unknownFunction = Code("UNKNOWN_FUNCTION")

        public var description: String { rawValue }
    }

    public var code: Code
    /// The reason, for people.
    public var reason: String

    public var description: String { reason }

    public static func optionsLineNotTerminated(limit: Int) -> ImageJobError {
        ImageJobError(
            code: .badOptionsLine,
            reason: "bad options line: a workload starting with '?' needs a newline within \(limit) bytes")
    }

    public static let optionsLineNotText = ImageJobError(
        code: .badOptionsLine, reason: "bad options line: not UTF-8 text")

    public static func unknownFunction(_ name: String) -> ImageJobError {
        ImageJobError(
            code: .unknownFunction,
            reason:
                "unknown image function '\(name)' (known: \(ImageFunction.allCases.map(\.rawValue).joined(separator: ", ")))"
        )
    }
}
