/// A job's number. On the wire it reads `H:<prefix>:<number>`; see `JobHandleFormat`.
public struct JobHandle: Hashable, Sendable, Comparable {
    public let number: UInt64

    public init(_ number: UInt64) {
        self.number = number
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(number)
    }

    /// Every job is looked up by handle several times; the server picks the numbers, one after another, so a
    /// multiplicative hash spreads them as well as SipHash does, at a fraction of its cost.
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: (number ^ UInt64(truncatingIfNeeded: seed)) &* 0x9E37_79B9_7F4A_7C15)
    }
}
