/// How a background job's attempts have gone, as its row keeps it: so that a retry in its backoff, and a dead
/// letter, survive a restart and a group's takeover. A job that never failed has `none`.
public struct JobProgress: Sendable, Hashable {
    /// Failed attempts.
    public var attempts: UInt32
    public var lastError: String?
    /// Unix times of the first and the last failed attempt.
    public var firstFailed: Int64?
    public var lastFailed: Int64?
    /// The last attempt failed: the row is a dead letter, not a queued job.
    public var isDead: Bool

    public init(
        attempts: UInt32 = 0, lastError: String? = nil, firstFailed: Int64? = nil, lastFailed: Int64? = nil,
        isDead: Bool = false
    ) {
        self.attempts = attempts
        self.lastError = lastError
        self.firstFailed = firstFailed
        self.lastFailed = lastFailed
        self.isDead = isDead
    }

    public static let none = JobProgress()
}
