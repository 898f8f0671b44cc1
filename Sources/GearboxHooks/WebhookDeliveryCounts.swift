/// What a ``WebhookDelivery`` has done since it was made.
public struct WebhookDeliveryCounts: Sendable, Hashable {
    /// Events a receiver answered with a 2xx status.
    public var delivered: Int
    /// Requests that failed: no connection, no answer in time, or a status other than 2xx.
    public var failedAttempts: Int
    /// Events taken out of the full outbox, the oldest first, to make room for new ones.
    public var dropped: Int
    /// Events waiting for delivery, including those being sent.
    public var pending: Int

    public init(delivered: Int = 0, failedAttempts: Int = 0, dropped: Int = 0, pending: Int = 0) {
        self.delivered = delivered
        self.failedAttempts = failedAttempts
        self.dropped = dropped
        self.pending = pending
    }
}
