/// A job's queue priority. Comparable so that `.high < .normal < .low` orders by precedence.
public enum GearmanPriority: Int, Sendable, Hashable, CaseIterable, Comparable {
    case high = 0
    case normal = 1
    case low = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
