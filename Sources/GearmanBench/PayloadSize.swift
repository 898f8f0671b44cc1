/// How many bytes each job carries: a fixed size (`64`) or a range picked from per job (`64-1024`).
public struct PayloadSize: Sendable, Hashable, CustomStringConvertible {
    public let minimum: Int
    public let maximum: Int

    public init(_ size: Int) {
        minimum = size
        maximum = size
    }

    /// Nil when the bounds are negative or reversed.
    public init?(minimum: Int, maximum: Int) {
        guard minimum >= 0, maximum >= minimum else { return nil }
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Parses `64`, `64-1024`, and sizes with a suffix (`byteCount(parsing:)`) such as `64k`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        guard let low = Self.byteCount(parsing: parts[0]) else { return nil }
        let high = parts.count == 2 ? Self.byteCount(parsing: parts[1]) : low
        guard let high else { return nil }
        self.init(minimum: low, maximum: high)
    }

    public var isFixed: Bool { minimum == maximum }

    /// The mean size, for bytes-per-job arithmetic.
    public var average: Int { (minimum + maximum) / 2 }

    public var description: String { isFixed ? "\(minimum)" : "\(minimum)-\(maximum)" }

    /// A size in the range; `random` is any value, reduced into the range.
    public func size(random: UInt64) -> Int {
        isFixed ? minimum : minimum + Int(random % UInt64(maximum - minimum + 1))
    }

    /// A number of bytes, with an optional `k`/`K` (KiB), `m`/`M` (MiB) or `g`/`G` (GiB) suffix: `64k`, `1G`.
    /// The one parser of sizes on the command line.
    public static func byteCount(parsing text: Substring) -> Int? {
        var digits = text
        var unit = 1
        switch digits.last {
        case "k", "K":
            unit = 1024
            digits = digits.dropLast()
        case "m", "M":
            unit = 1024 * 1024
            digits = digits.dropLast()
        case "g", "G":
            unit = 1024 * 1024 * 1024
            digits = digits.dropLast()
        default:
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), let value = Int(digits) else {
            return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }
}
