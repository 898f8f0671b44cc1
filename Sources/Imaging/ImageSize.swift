/// A thumbnail box in `vipsthumbnail -s` notation: `200x150` (fit within 200 by 150), `200x`
/// (200 wide), `x150` (150 high), `200` (within 200 by 200), followed by an optional modifier:
/// `>` only shrink, `<` only enlarge, `!` exactly this size, ignoring the aspect ratio.
public struct ImageSize: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    /// How the box applies.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Shrink or enlarge to fit (no modifier).
        case both
        /// Only shrink images larger than the box (`>`).
        case down
        /// Only enlarge images smaller than the box (`<`).
        case up
        /// Exactly the box, aspect ratio ignored (`!`).
        case force
    }

    /// The largest width or height a box may name.
    public static let maximumDimension = 10_000

    /// nil: no constraint on width.
    public var width: Int?
    /// nil: no constraint on height.
    public var height: Int?
    public var mode: Mode

    /// A box; at least one of width and height must be given, each 1...``maximumDimension``.
    public init(width: Int?, height: Int?, mode: Mode = .both) throws {
        let text = ImageSize.render(width: width, height: height, mode: mode)
        guard width != nil || height != nil else {
            throw ImagingError.invalidOption(name: "size", value: text, expected: ImageSize.expected)
        }
        for value in [width, height].compactMap({ $0 })
        where !(1...ImageSize.maximumDimension).contains(value) {
            throw ImagingError.invalidOption(
                name: "size", value: text,
                expected: "width and height from 1 to \(ImageSize.maximumDimension)")
        }
        if mode == .force && (width == nil || height == nil) {
            throw ImagingError.invalidOption(
                name: "size", value: text, expected: "both width and height with '!'")
        }
        self.width = width
        self.height = height
        self.mode = mode
    }

    /// Parses `200x150`, `200x`, `x150`, `200`, each optionally followed by `>`, `<` or `!`.
    public init(parsing text: String) throws {
        var body = Substring(text.trimmingWhitespace())
        var mode = Mode.both
        switch body.last {
        case ">": mode = .down
        case "<": mode = .up
        case "!": mode = .force
        default: break
        }
        if mode != .both { body = body.dropLast() }
        let invalid = ImagingError.invalidOption(name: "size", value: text, expected: ImageSize.expected)
        func number(_ part: Substring) throws -> Int? {
            if part.isEmpty { return nil }
            guard part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber), let value = Int(part) else {
                throw invalid
            }
            return value
        }
        let parts = body.split(separator: "x", maxSplits: 1, omittingEmptySubsequences: false)
        let width: Int?
        let height: Int?
        switch parts.count {
        case 1:
            width = try number(parts[0])
            height = width
        case 2:
            width = try number(parts[0])
            height = try number(parts[1])
        default:
            throw invalid
        }
        guard width != nil || height != nil else { throw invalid }
        try self.init(width: width, height: height, mode: mode)
    }

    public init?(_ description: String) {
        try? self.init(parsing: description)
    }

    public var description: String {
        ImageSize.render(width: width, height: height, mode: mode)
    }

    static let expected = "WIDTHxHEIGHT, WIDTHx, xHEIGHT or SIZE, optionally followed by >, < or !"

    private static func render(width: Int?, height: Int?, mode: Mode) -> String {
        let modifier: String
        switch mode {
        case .both: modifier = ""
        case .down: modifier = ">"
        case .up: modifier = "<"
        case .force: modifier = "!"
        }
        if let width, let height, width == height, mode != .force {
            return "\(width)\(modifier)"
        }
        return "\(width.map(String.init) ?? "")x\(height.map(String.init) ?? "")\(modifier)"
    }
}
