/// Something that happened to a background job, for the operator's event hooks: the engine reports it as a
/// `ServerAction.event`, and `--webhook` delivers it as JSON.
public struct JobEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A worker sent WORK_COMPLETE.
        case completed
        /// An attempt ended in WORK_FAIL, WORK_EXCEPTION, lost workers or a timeout; `retrying` or `dead`
        /// follows.
        case failed
        /// The failed job is queued again at `retryAt`.
        case retrying
        /// The job's last attempt failed: it is kept as a dead letter.
        case dead
    }

    public var event: Kind
    public var function: String
    /// `H:<prefix>:<n>`.
    public var handle: String
    public var unique: String
    /// The attempt this event ends, from 1.
    public var attempt: Int
    /// What the worker said (WORK_EXCEPTION's data), or why the attempt ended; nil for `completed`.
    public var error: String?
    /// Unix time of the event.
    public var time: Int64
    /// For `retrying`: the Unix time of the next attempt.
    public var retryAt: Int64?

    public init(
        event: Kind, function: String, handle: String, unique: String, attempt: Int, error: String?, time: Int64,
        retryAt: Int64? = nil
    ) {
        self.event = event
        self.function = function
        self.handle = handle
        self.unique = unique
        self.attempt = attempt
        self.error = error
        self.time = time
        self.retryAt = retryAt
    }

    enum CodingKeys: String, CodingKey {
        case event, function, handle, unique, attempt, error, time
        case retryAt = "retry_at"
    }
}
