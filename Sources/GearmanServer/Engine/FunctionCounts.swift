/// What happened to one function's jobs since the server started, counted by the engine as plain integers
/// (under the lock it already holds) and published as metrics when they are scraped.
public struct FunctionCounts: Sendable, Hashable {
    /// Submissions accepted, those that joined a job with the same unique key included.
    public var submitted = 0
    public var completed = 0
    public var failed = 0
    public var exceptions = 0
    /// Jobs queued again after their worker vanished, gave the function up or ran past CAN_DO_TIMEOUT.
    public var retried = 0

    public init() {}
}
