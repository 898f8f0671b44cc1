/// How background jobs whose attempt fails are tried again (`gearbox server --retries`, `--retry-backoff`).
///
/// An attempt fails when its worker answers WORK_FAIL or WORK_EXCEPTION, when its workers keep vanishing past
/// `--job-retries`, or, for a function with retries, when it runs past CAN_DO_TIMEOUT. A failed background job
/// with retries left waits `delay(afterFailures:seed:)` and is queued again at its priority; after its last
/// attempt it becomes a dead letter (`DeadLetterPolicy`). Foreground clients waiting on such a job are told of
/// each failure as before.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt, per function name.
    public var retries: [String: Int]
    /// Retries for every function not in `retries` (`--retries '*=N'`); 0, today's Gearman behaviour, by default.
    public var defaultRetries: Int
    /// The first retry waits at least `minimumBackoff`; each later one twice the one before, up to
    /// `maximumBackoff`. Whole seconds: the engine's clock.
    public var minimumBackoff: Duration
    public var maximumBackoff: Duration

    public static let defaultMinimumBackoff = Duration.seconds(1)
    public static let defaultMaximumBackoff = Duration.seconds(3600)

    public init(
        retries: [String: Int] = [:], defaultRetries: Int = 0, minimumBackoff: Duration = Self.defaultMinimumBackoff,
        maximumBackoff: Duration = Self.defaultMaximumBackoff
    ) {
        self.retries = retries
        self.defaultRetries = defaultRetries
        self.minimumBackoff = minimumBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// Retries for `function`.
    public func retries(for function: String) -> Int {
        retries[function] ?? defaultRetries
    }

    /// Seconds before the attempt that follows the `failures`-th failure: the minimum doubled for each failure
    /// after the first, capped at the maximum, plus up to half of that again, drawn from `seed` (so that jobs
    /// that failed together do not come back together), and still capped at the maximum.
    public func delay(afterFailures failures: UInt32, seed: UInt64) -> Int64 {
        let minimum = max(1, Self.seconds(minimumBackoff))
        let maximum = max(minimum, Self.seconds(maximumBackoff))
        let doublings = min(Int64(max(1, failures)) - 1, 40)
        let base = min(maximum, minimum << doublings)
        let jitter = base / 2 > 0 ? Int64(Self.mix(seed) % UInt64(base / 2 + 1)) : 0
        return min(maximum, base + jitter)
    }

    /// `FUNCTION=N` or `*=N`, as `--retries` takes it: nil for the function means every function.
    public static func parseRetries(_ text: String) throws(GearmanServerConfigurationError) -> (
        function: String?, retries: Int
    ) {
        guard let separator = text.lastIndex(of: "="), separator != text.startIndex else {
            throw problem("\(text): give FUNCTION=N or *=N, as in resize=5")
        }
        let name = String(text[..<separator])
        guard let count = Int(text[text.index(after: separator)...]), (0...1000).contains(count) else {
            throw problem("\(text): the number of retries must be a whole number from 0 to 1000")
        }
        return (name == "*" ? nil : name, count)
    }

    /// `MIN..MAX`, each a whole number with a unit (`1s..1h`).
    public static func parseBackoff(_ text: String) throws(GearmanServerConfigurationError) -> (
        minimum: Duration, maximum: Duration
    ) {
        let parts = text.split(separator: "..", omittingEmptySubsequences: false)
        guard parts.count == 2, let minimum = ResultCacheConfiguration.parseTimeToLive(parts[0]),
            let maximum = ResultCacheConfiguration.parseTimeToLive(parts[1])
        else {
            throw problem("\(text): give MIN..MAX, each a whole number with a unit s, m, h or d (1s..1h)")
        }
        guard minimum <= maximum else { throw problem("\(text): the minimum is longer than the maximum") }
        return (minimum, maximum)
    }

    var problem: GearmanServerConfigurationError? {
        if defaultRetries < 0 || retries.values.contains(where: { $0 < 0 }) {
            return Self.problem("retries must not be negative")
        }
        if minimumBackoff < .seconds(1) || maximumBackoff < minimumBackoff {
            return Self.problem("the backoff must be at least a second, its maximum no shorter than its minimum")
        }
        return nil
    }

    private static func seconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds + (attoseconds > 0 ? 1 : 0)
    }

    /// SplitMix64's finalizer: spreads a job's handle and failure count over the jitter's range.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func problem(_ reason: String) -> GearmanServerConfigurationError {
        GearmanServerConfigurationError(property: "retries", reason: reason)
    }
}
