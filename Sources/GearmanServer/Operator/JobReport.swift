import NIOCore

/// One job as `GET /api/jobs/{handle}` answers it: where it is, and its kept result once it completed.
public struct JobReport: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable {
        case queued, running, scheduled
        /// Waiting out its backoff before another attempt.
        case retrying
        case dead
        /// Its result is kept (`--keep-results`).
        case completed
    }

    public var handle: String
    public var function: String
    public var unique: String
    public var state: State
    /// Failed attempts so far.
    public var attempts: Int
    public var lastError: String?
    /// For a scheduled or retrying job: the Unix time it runs at.
    public var due: Int64?
    /// For a completed job: Unix time of its WORK_COMPLETE, when its result expires, and the result.
    public var completed: Int64?
    public var expires: Int64?
    public var result: ByteBuffer?

    public init(
        handle: String, function: String, unique: String, state: State, attempts: Int, lastError: String? = nil,
        due: Int64? = nil, completed: Int64? = nil, expires: Int64? = nil, result: ByteBuffer? = nil
    ) {
        self.handle = handle
        self.function = function
        self.unique = unique
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.due = due
        self.completed = completed
        self.expires = expires
        self.result = result
    }
}
