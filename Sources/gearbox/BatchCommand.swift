import ArgumentParser
import Dispatch
import Gearman
import ImageFarm
import Imaging
import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gearbox batch DIR -o OUTDIR -s 200x150 -s 640x480`: a folder of photos through a Gearman image farm.
struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Thumbnail every image under a folder at one or more sizes, through a Gearman image farm.",
        discussion: """
            Every image under DIR (recursively; recognised by extension) is thumbnailed at each size into \
            OUTDIR, mirroring the folders: DIR/a/b.jpg at -s 200x150 becomes OUTDIR/a/b_200x150.jpg. \
            Outputs at least as new as their input are skipped, so an interrupted run resumes. Without \
            --server, a job server and one image worker per core run inside this process; with --server, \
            jobs go to that farm (`gearbox worker` on Gearbox or gearmand). Either way each thumbnail is a \
            Gearman `thumbnail` job. Ctrl-C stops submitting; no half-written file is left. Exit status: 0 \
            when everything was made, 1 when something failed, 130 when interrupted.

            Examples:
              gearbox batch photos -o thumbs
              gearbox batch photos -o thumbs -s 100x100 -s 640x480 -s 1600x1200 --format webp
              gearbox batch photos -o thumbs --server farm1:4730 --server farm2:4730
            """)

    @Argument(help: "The folder of photos.")
    var input: String

    @Option(name: [.short, .long], help: "The folder the thumbnails go to.")
    var output: String

    @Option(
        name: [.short, .long],
        help: "A box to fit in (repeat for several): 200x150, 200x, x150, 200, then >, < or !. Default 200x150.",
        transform: ImageSize.argument)
    var size: [ImageSize] = []

    @OptionGroup(title: "Output") var image: ImageOutputOptions

    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "A job server with image workers, as host[:port]; repeat for several. Default: an embedded farm.",
            valueName: "host:port"))
    var servers: [GearmanServerAddress] = []

    @OptionGroup(title: "TLS to the job servers") var tls: ClientTLSOptions

    @Option(name: [.customShort("c"), .long], help: "Image workers in the embedded farm (default: the cores).")
    var concurrency: Int?

    @Option(help: "Photos read and submitted at once (default: twice the workers; 32 with --server).")
    var inFlight: Int?

    @Option(help: "Progress: auto (a bar on a terminal, else a line per file), bar, lines, none.")
    var progress: ProgressChoice = .auto

    @OptionGroup(title: "Limits (the pixel and frame limits apply to the embedded farm)") var limits: ImageLimitOptions

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    enum ProgressChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, bar, lines, none

        var style: BatchProgress.Style {
            switch self {
            case .auto: .automatic()
            case .bar: .bar
            case .lines: .lines
            case .none: .none
            }
        }
    }

    /// The options every job carries besides size and format, checked here so that a conflict fails at once.
    func jobOptions() throws -> QueryItems {
        let items = QueryItems(image.queryItems.filter { $0.name != "format" })
        do {
            _ = try ThumbnailOptions(queryItems: items)
        } catch {
            throw ValidationError(String(describing: error))
        }
        return items
    }

    func validate() throws {
        if tls.enabled, servers.isEmpty { throw ValidationError("--ssl is for --server; the embedded farm needs none") }
        _ = try jobOptions()
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let inFlight, inFlight < 1 { throw ValidationError("--in-flight must be at least 1") }
    }

    func run() async throws {
        let logger = try logging.makeLogger(label: "gearbox.batch", level: .warning)
        let plan: BatchPlan
        do {
            plan = try BatchPlan.make(
                input: input, output: output, sizes: size.isEmpty ? [ImageFunctionDefaults.defaultSize] : size,
                format: image.format)
        } catch let error as BatchError {
            throw ValidationError(error.description)
        }

        let workers = concurrency ?? System.coreCount
        if servers.isEmpty {
            try await EmbeddedFarm.with(concurrency: workers, limits: limits.limits(), logger: logger) { farm in
                try await run(
                    plan, client: GearmanClient(servers: [farm.address], logger: logger),
                    farmText: "embedded, \(workers) worker\(workers == 1 ? "" : "s") on \(farm.address)",
                    maxPhotosInFlight: inFlight ?? 2 * workers)
            }
        } else {
            let client = GearmanClient(servers: servers, tls: try tls.context(), logger: logger)
            guard await !client.reachableServers().isEmpty else {
                await client.shutdown()
                StandardIO.error(
                    "gearbox batch: no job server answers at \(servers.map(\.description).joined(separator: ", "))")
                throw ExitCode(1)
            }
            try await run(
                plan, client: client, farmText: servers.map(\.description).joined(separator: ", "),
                maxPhotosInFlight: inFlight ?? 32)
        }
    }

    /// Runs the plan through `client`, which it shuts down, and prints the summary; throws the exit status.
    private func run(_ plan: BatchPlan, client: GearmanClient, farmText: String, maxPhotosInFlight: Int) async throws {
        let runner = BatchRunner(
            client: client,
            configuration: .init(
                options: try jobOptions(), maxPhotosInFlight: maxPhotosInFlight, maxInputBytes: limits.maxBytes))
        let style = progress.style
        if style != .none {
            let pending = plan.pendingOutputs
            let upToDate = plan.photos.count * plan.sizes.count - pending
            StandardIO.error(
                "gearbox batch: \(plan.photos.count) photos (\(BatchSummary.bytes(plan.totalBytes))) x "
                    + "\(plan.sizes.count) sizes: \(pending) thumbnails to make, \(upToDate) up to date; farm: \(farmText)"
            )
        }
        let bar = BatchProgress(style: style, totalPhotos: plan.photos.count, totalBytes: plan.totalBytes)
        let work = Task { await runner.run(plan, onPhoto: bar.photoFinished) }
        let signals = Self.cancelOnSignals(work)
        let summary = await work.value
        bar.finish()
        StandardIO.write(summary.render(outputRoot: output, farm: farmText))
        await client.shutdown()
        for source in signals { source.cancel() }
        if summary.exitStatus != 0 {
            throw ExitCode(summary.exitStatus)
        }
    }

    /// SIGINT and SIGTERM cancel the batch (no new photos; jobs in flight are dropped, nothing half-written
    /// is left); a second one exits at once.
    private static func cancelOnSignals(_ task: Task<BatchSummary, Never>) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let seen = NIOLockedValueBox(0)
            source.setEventHandler {
                let count = seen.withLockedValue { count in
                    count += 1
                    return count
                }
                if count > 1 { _exit(130) }
                StandardIO.error("\ngearbox batch: stopping (press Ctrl-C again to quit at once)")
                task.cancel()
            }
            source.resume()
            return source
        }
    }
}
