/// Which functions' results the job server keeps and answers again without a worker, for how long, and in how
/// many bytes (one budget over all of them, least recently used results evicted first).
///
/// A foreground SUBMIT_JOB (or _HIGH, _LOW) to one of `functions` with a non-empty unique key whose result is
/// kept and younger than the function's time to live is answered at once: JOB_CREATED, then WORK_COMPLETE
/// with the kept bytes. Only WORK_COMPLETE results are kept, keyed by function and unique key as coalescing
/// keys jobs (the unique `-` stands for the workload).
public struct ResultCacheConfiguration: Sendable, Hashable {
    /// How long a result is answered again when its function names no time: one hour.
    public static let defaultTimeToLive = Duration.seconds(3600)
    /// 64 MiB.
    public static let defaultMaximumBytes = 64 * 1024 * 1024

    /// Each cached function and how long its results are answered again (whole seconds, at least one).
    public var functions: [String: Duration]
    /// Functions whose background jobs' results are kept by job handle, and for how long (`--keep-results`),
    /// within the same budget: readable at `GET /api/jobs/{handle}` on the operator's port.
    public var keptResults: [String: Duration]
    /// What every kept result together may take: its unique key's bytes and its data's bytes.
    public var maximumBytes: Int

    public init(
        functions: [String: Duration] = [:], keptResults: [String: Duration] = [:],
        maximumBytes: Int = Self.defaultMaximumBytes
    ) {
        self.functions = functions
        self.keptResults = keptResults
        self.maximumBytes = maximumBytes
    }

    /// Parses `FUNCTION` or `FUNCTION=TTL`, as `gearbox server --result-cache` takes it; the time to live is
    /// a whole number with a unit (`30s`, `10m`, `1h`, `2d`) and defaults to `defaultTimeToLive`. Throws a
    /// message that says what is wrong with the text.
    public static func parseFunction(_ text: String) throws(GearmanServerConfigurationError) -> (
        name: String, timeToLive: Duration
    ) {
        guard let separator = text.lastIndex(of: "=") else {
            guard !text.isEmpty else { throw problem("a function name is needed, as in resize or resize=10m") }
            return (text, defaultTimeToLive)
        }
        let name = String(text[..<separator])
        let ttl = text[text.index(after: separator)...]
        guard !name.isEmpty else { throw problem("\(text): a function name is needed before the =") }
        guard let timeToLive = parseTimeToLive(ttl) else {
            throw problem(
                "\(text): the time to live must be a positive whole number with a unit: s, m, h or d (30s, 10m, 1h, 2d)"
            )
        }
        return (name, timeToLive)
    }

    /// `30s`, `10m`, `1h`, `2d`; nil for anything else, zero and what overflows included.
    public static func parseTimeToLive(_ text: Substring) -> Duration? {
        guard let unit = text.last else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86400
        default: return nil
        }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ ("0"..."9").contains($0) }),
            let count = Int64(digits), count > 0
        else { return nil }
        return .seconds(count * seconds)
    }

    /// The first thing `GearmanJobServer.bind` cannot run with, if any.
    var problem: GearmanServerConfigurationError? {
        if maximumBytes < 0 { return Self.problem("maximumBytes must not be negative") }
        for (name, timeToLive) in [functions, keptResults].joined() {
            if name.isEmpty { return Self.problem("a function name is empty") }
            if timeToLive < .seconds(1) { return Self.problem("\(name): the time to live must be at least a second") }
        }
        return nil
    }

    private static func problem(_ reason: String) -> GearmanServerConfigurationError {
        GearmanServerConfigurationError(property: "resultCache", reason: reason)
    }
}
