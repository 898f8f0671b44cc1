/// Names one client, worker or admin connection inside the engine. Numbers are never reused.
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    /// No connection: numbers start at 1.
    public static let none = ConnectionID(0)

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rawValue)
    }

    /// Numbered by the server in order, like job handles: see `JobHandle._rawHashValue(seed:)`.
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: (rawValue ^ UInt64(truncatingIfNeeded: seed)) &* 0x9E37_79B9_7F4A_7C15)
    }
}
