import GearmanProtocol
import NIOSSL

/// What one `gearbox bench` run does. `validate()` says what is wrong before anything connects.
public struct BenchConfiguration: Sendable {
    /// How long the measured phase lasts: a time or a number of jobs.
    public enum Length: Sendable, Hashable {
        case seconds(Double)
        case jobs(Int)
    }

    /// The server to measure; nil starts the runner's embedded server in this process.
    public var server: GearmanServerAddress?
    /// Event loops of the embedded server.
    public var serverThreads: Int
    /// Pid of the server process, for its CPU time and memory (read from /proc).
    public var serverPID: Int32?
    public var clients: Int
    /// Echo workers started by the generator; 0 relies on workers already attached to the server.
    public var workers: Int
    /// Submits each client keeps outstanding.
    public var inFlight: Int
    /// GRAB_JOBs each worker keeps outstanding, so that it holds several jobs at once.
    public var grabs: Int
    public var payload: PayloadSize
    /// Background submits into an idle queue; this run's workers, if any, drain it afterwards.
    public var background: Bool
    public var length: Length
    /// Not counted: the same load, run before the measured phase (seconds, or jobs for a `.jobs` length).
    public var warmUp: Length
    /// Background jobs queued before the warm-up, to measure submits into a deep queue and memory per job.
    public var prefill: Int
    public var function: String
    /// Event loops the generator's own connections run on.
    public var loops: Int
    /// Submits per second across all clients (open loop, still capped by `inFlight`); nil: as fast as possible.
    public var rate: Double?
    /// TLS to `server` (`GearmanTLSFiles.makeClientContext()`); nil speaks plaintext.
    public var tls: NIOSSLContext?

    public init(
        server: GearmanServerAddress? = nil,
        serverThreads: Int = 2,
        serverPID: Int32? = nil,
        clients: Int = 4,
        workers: Int = 4,
        inFlight: Int = 32,
        grabs: Int = 8,
        payload: PayloadSize = PayloadSize(64),
        background: Bool = false,
        length: Length = .seconds(5),
        warmUp: Length = .seconds(1),
        prefill: Int = 0,
        function: String = "gearbox-bench",
        loops: Int = 1,
        rate: Double? = nil,
        tls: NIOSSLContext? = nil
    ) {
        self.tls = tls
        self.server = server
        self.serverThreads = serverThreads
        self.serverPID = serverPID
        self.clients = clients
        self.workers = workers
        self.inFlight = inFlight
        self.grabs = grabs
        self.payload = payload
        self.background = background
        self.length = length
        self.warmUp = warmUp
        self.prefill = prefill
        self.function = function
        self.loops = loops
        self.rate = rate
    }

    /// The largest payload a run may ask for: what gearmand and Gearbox accept by default, with room for headers.
    public static let maximumPayload = 32 * 1024 * 1024

    /// Every problem with the configuration, as one message each; empty when it can run.
    public func problems() -> [String] {
        var problems: [String] = []
        if clients < 1 { problems.append("--clients must be at least 1") }
        if workers < 0 { problems.append("--workers must not be negative") }
        if inFlight < 1 { problems.append("--in-flight must be at least 1") }
        if grabs < 1 { problems.append("--grabs must be at least 1") }
        if loops < 1 { problems.append("--loops must be at least 1") }
        if serverThreads < 1 { problems.append("--threads must be at least 1") }
        if prefill < 0 { problems.append("--prefill must not be negative") }
        if payload.maximum > Self.maximumPayload {
            problems.append("--payload may be at most \(Self.maximumPayload) bytes")
        }
        if function.isEmpty || function.utf8.contains(0) {
            problems.append("--function must be a non-empty name without NUL bytes")
        }
        switch length {
        case .seconds(let seconds) where !(seconds > 0 && seconds.isFinite):
            problems.append("--duration must be a positive number of seconds")
        case .jobs(let jobs) where jobs < 1:
            problems.append("--jobs must be at least 1")
        default:
            break
        }
        switch warmUp {
        case .seconds(let seconds) where !(seconds >= 0 && seconds.isFinite):
            problems.append("--warm-up must not be negative")
        case .jobs(let jobs) where jobs < 0:
            problems.append("--warm-up must not be negative")
        default:
            break
        }
        if let rate, !(rate > 0 && rate.isFinite) {
            problems.append("--rate must be a positive number of jobs per second")
        }
        if prefill > 0, !background {
            problems.append("--prefill needs --background: it fills an idle queue")
        }
        if !background, workers == 0, server == nil {
            problems.append("foreground jobs against the embedded server need --workers of at least 1")
        }
        return problems
    }

    /// How many of `total` jobs client `index` of `count` runs: an even split, the remainder to the first ones.
    public static func share(of total: Int, client index: Int, of count: Int) -> Int {
        total / count + (index < total % count ? 1 : 0)
    }
}
