#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a run measured; `--json` prints it as is, otherwise `text` does.
public struct BenchResult: Sendable, Codable, Hashable {
    /// A phase that moves a known number of jobs: the measured phase, the prefill, the drain.
    public struct Phase: Sendable, Codable, Hashable {
        public var jobs: Int
        public var seconds: Double
        public var jobsPerSecond: Double

        public init(jobs: Int, seconds: Double) {
            self.jobs = jobs
            self.seconds = seconds
            jobsPerSecond = seconds > 0 ? Double(jobs) / seconds : 0
        }
    }

    /// The server process, read from /proc; absent when it was not given or could not be read.
    public struct ServerUsage: Sendable, Codable, Hashable {
        public var pid: Int32
        /// User plus system CPU time over the measured phase, per job.
        public var cpuMicrosecondsPerJob: Double?
        /// The part of `cpuMicrosecondsPerJob` the kernel spent on the server's behalf: its system calls, and on
        /// loopback the delivery of what it sends to its peers.
        public var systemMicrosecondsPerJob: Double?
        /// Context switches of all the server's threads over the measured phase, per job.
        public var contextSwitchesPerJob: Double?
        /// Resident memory at the end of the run.
        public var rssBytes: Int?
        /// Resident memory the prefill added, per queued job, less the payload.
        public var bytesPerQueuedJobBeyondPayload: Double?
        /// True when the server is this very process (the embedded one): its figures include the generator's.
        public var includesGenerator: Bool

        public init(
            pid: Int32, cpuMicrosecondsPerJob: Double? = nil, systemMicrosecondsPerJob: Double? = nil,
            contextSwitchesPerJob: Double? = nil, rssBytes: Int? = nil, bytesPerQueuedJobBeyondPayload: Double? = nil,
            includesGenerator: Bool = false
        ) {
            self.pid = pid
            self.cpuMicrosecondsPerJob = cpuMicrosecondsPerJob
            self.systemMicrosecondsPerJob = systemMicrosecondsPerJob
            self.contextSwitchesPerJob = contextSwitchesPerJob
            self.rssBytes = rssBytes
            self.bytesPerQueuedJobBeyondPayload = bytesPerQueuedJobBeyondPayload
            self.includesGenerator = includesGenerator
        }
    }

    public var server: String
    /// The submit rate asked for with `--rate`; nil when unpaced.
    public var rate: Double?
    public var mode: String
    public var clients: Int
    public var workers: Int
    public var inFlight: Int
    public var payload: String
    /// Jobs completed (foreground) or accepted (background) in the measured phase.
    public var measured: Phase
    /// Jobs submitted in the measured phase; with no errors, equal to `measured.jobs`.
    public var submitted: Int
    public var errors: Int
    public var latency: LatencySummary
    public var prefill: Phase?
    /// With a prefill: the measured phase's submits, run once before the prefill into the idle queue.
    public var emptyQueue: Phase?
    public var drain: Phase?
    public var serverUsage: ServerUsage?

    public init(
        server: String, rate: Double? = nil, mode: String, clients: Int, workers: Int, inFlight: Int, payload: String,
        measured: Phase, submitted: Int, errors: Int, latency: LatencySummary, prefill: Phase? = nil,
        emptyQueue: Phase? = nil, drain: Phase? = nil, serverUsage: ServerUsage? = nil
    ) {
        self.server = server
        self.rate = rate
        self.mode = mode
        self.clients = clients
        self.workers = workers
        self.inFlight = inFlight
        self.payload = payload
        self.measured = measured
        self.submitted = submitted
        self.errors = errors
        self.latency = latency
        self.prefill = prefill
        self.emptyQueue = emptyQueue
        self.drain = drain
        self.serverUsage = serverUsage
    }

    public func json(pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func decode(json: String) throws -> BenchResult {
        try JSONDecoder().decode(BenchResult.self, from: Data(json.utf8))
    }

    /// A few lines for people.
    public var text: String {
        var lines: [String] = []
        let pace = rate.map { ", paced at \(Self.fixed($0, 0)) jobs/s" } ?? ""
        lines.append(
            "server \(server), \(mode)\(pace), \(clients) clients x \(inFlight) in flight, \(workers) workers, "
                + "payload \(payload) bytes")
        if let emptyQueue {
            lines.append(
                "empty queue \(Self.fixed(emptyQueue.jobsPerSecond, 0)) jobs/s (\(emptyQueue.jobs) jobs in "
                    + "\(Self.fixed(emptyQueue.seconds, 2)) s, before the prefill)")
        }
        if let prefill {
            lines.append(
                "prefill     \(prefill.jobs) jobs in \(Self.fixed(prefill.seconds, 2)) s "
                    + "(\(Self.fixed(prefill.jobsPerSecond, 0)) jobs/s)")
        }
        lines.append(
            "throughput  \(Self.fixed(measured.jobsPerSecond, 0)) jobs/s (\(measured.jobs) jobs in "
                + "\(Self.fixed(measured.seconds, 2)) s, \(errors) errors)")
        lines.append(
            "latency     p50 \(Self.micros(latency.p50))  p90 \(Self.micros(latency.p90))  "
                + "p99 \(Self.micros(latency.p99))  p99.9 \(Self.micros(latency.p999))  max \(Self.micros(latency.max))"
        )
        if let drain {
            lines.append(
                "drain       \(drain.jobs) jobs in \(Self.fixed(drain.seconds, 2)) s "
                    + "(\(Self.fixed(drain.jobsPerSecond, 0)) jobs/s)")
        }
        if let usage = serverUsage {
            var parts: [String] = []
            if let cpu = usage.cpuMicrosecondsPerJob {
                let kernel = usage.systemMicrosecondsPerJob.map { " (\(Self.fixed($0, 1)) in the kernel)" } ?? ""
                parts.append("\(Self.fixed(cpu, 1)) µs CPU/job\(kernel)")
            }
            if let switches = usage.contextSwitchesPerJob {
                parts.append("\(Self.fixed(switches, 2)) context switches/job")
            }
            if let rss = usage.rssBytes { parts.append("RSS \(Self.fixed(Double(rss) / 1_048_576, 1)) MiB") }
            if let bytes = usage.bytesPerQueuedJobBeyondPayload {
                parts.append("\(Self.fixed(bytes, 0)) bytes/queued job beyond payload")
            }
            let note = usage.includesGenerator ? " (embedded: includes the generator)" : ""
            lines.append("server pid \(usage.pid)  " + parts.joined(separator: ", ") + note)
        } else {
            lines.append("server CPU and memory: not measured (pass --server-pid for a local server)")
        }
        return lines.joined(separator: "\n")
    }

    static func micros(_ value: Double) -> String {
        value >= 10_000 ? "\(fixed(value / 1000, 1)) ms" : "\(fixed(value, 0)) µs"
    }

    /// A number with `digits` decimals, without Foundation's formatters.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let whole = Int(rounded / scale)
        let fraction = Int(rounded - Double(whole) * scale)
        let sign = value < 0 && rounded > 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fractionText = String(fraction)
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }
}
