/// How long background jobs whose last attempt failed are kept (`--dead-retention`, `--dead-max`): the oldest
/// go first once there are more than `maximumCount`, and any older than `retention`.
public struct DeadLetterPolicy: Sendable, Hashable {
    public var retention: Duration
    /// 0 keeps none: a failed job is then dropped, as Gearman servers always did.
    public var maximumCount: Int

    public static let defaultRetention = Duration.seconds(30 * 86400)
    public static let defaultMaximumCount = 100_000

    public init(retention: Duration = Self.defaultRetention, maximumCount: Int = Self.defaultMaximumCount) {
        self.retention = retention
        self.maximumCount = maximumCount
    }

    var retentionSeconds: Int64 { retention.components.seconds }
}
