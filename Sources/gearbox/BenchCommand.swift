import ArgumentParser
import GearmanBench
import GearmanProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gearbox bench`: a load generator for any Gearman server, the embedded one by default.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a Gearman server's throughput and latency with pipelined clients and echo workers.",
        discussion: """
            With no --server it starts the embedded Gearbox server in this process; with --server it measures \
            any Gearman server, gearmand included. Foreground jobs are timed from submit to WORK_COMPLETE, \
            background ones from submit to JOB_CREATED. --background submits into an idle queue and, when \
            --workers is above 0, drains it afterwards. --server-pid names a local server process whose CPU \
            time per job and memory are read from /proc; the embedded server's figures include the generator.

            Examples:
              gearbox bench
              gearbox bench --server 127.0.0.1:4730 --server-pid $(pidof gearmand) --clients 8 --in-flight 64
              gearbox bench --background --workers 0 --jobs 500000 --json
            """
    )

    @Option(help: ArgumentHelp("Server to measure (default: the embedded server).", valueName: "host:port"))
    var server: GearmanServerAddress?

    @Option(help: "The server's process id, for its CPU time per job and memory.")
    var serverPid: Int32?

    @Option(help: "Event loops of the embedded server.")
    var threads = 2

    @Option(help: "Client connections.")
    var clients = 4

    @Option(help: "Echo worker connections; 0 uses workers already attached to the server.")
    var workers = 4

    @Option(help: "Submits each client keeps outstanding.")
    var inFlight = 32

    @Option(help: "GRAB_JOBs each worker keeps outstanding.")
    var grabs = 8

    @Option(help: "Payload bytes per job: 64, 64-1024 (a range, picked per job), 64k.")
    var payload = "64"

    @Flag(help: "Background submits into an idle queue, then drained by this run's workers (if any).")
    var background = false

    @Option(help: "Seconds to measure (default 5 unless --jobs is given).")
    var duration: Double?

    @Option(help: "Jobs to measure, instead of a duration.")
    var jobs: Int?

    @Option(
        help: "Warm-up before measuring, not counted: seconds, or jobs with --jobs (default 1 s, or a tenth of --jobs)."
    )
    var warmUp: Double?

    @Option(
        help: "Background jobs queued before measuring (with --background): a deep queue, and memory per queued job.")
    var prefill = 0

    @Option(help: "Function name the jobs are submitted to.")
    var function = "gearbox-bench"

    @Option(help: "Event loops of the generator's own connections.")
    var loops = 1

    @Option(help: "Submits per second across all clients, for latency at a given load (default: as fast as possible).")
    var rate: Double?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "No progress line.")
    var quiet = false

    @OptionGroup(title: "TLS") var tls: ClientTLSOptions

    func makeConfiguration() throws -> BenchConfiguration {
        guard duration == nil || jobs == nil else { throw ValidationError("give --duration or --jobs, not both") }
        guard let payloadSize = PayloadSize(parsing: payload) else {
            throw ValidationError("--payload must be a size like 64, 64k or a range like 64-1024")
        }
        let length: BenchConfiguration.Length = jobs.map { .jobs($0) } ?? .seconds(duration ?? 5)
        let warm: BenchConfiguration.Length
        switch length {
        case .jobs(let count): warm = .jobs(warmUp.map { Int($0) } ?? count / 10)
        case .seconds: warm = .seconds(warmUp ?? 1)
        }
        let configuration = BenchConfiguration(
            server: server, serverThreads: threads, serverPID: serverPid, clients: clients, workers: workers,
            inFlight: inFlight, grabs: grabs, payload: payloadSize, background: background, length: length,
            warmUp: warm, prefill: prefill, function: function, loops: loops, rate: rate, tls: try tls.context())
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
        return configuration
    }

    func validate() throws {
        _ = try makeConfiguration()
    }

    func run() async throws {
        let runner = BenchRunner(configuration: try makeConfiguration(), embeddedServer: .gearbox)
        let showProgress = !quiet && isatty(STDERR_FILENO) != 0
        var report: (@Sendable (BenchRunner.Progress) -> Void)?
        if showProgress {
            report = { progress in
                let rate = Int(progress.jobsPerSecond)
                Self.writeError("\r\(progress.phase): \(progress.jobs) jobs, \(rate) jobs/s   ")
            }
        }
        let result = try await runner.run(progress: report)
        if showProgress {
            Self.writeError("\r\u{1B}[K")
        }
        print(json ? try result.json() : result.text)
        if result.errors > 0 {
            throw ExitCode(1)
        }
    }

    private static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
    }
}
