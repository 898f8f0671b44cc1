import ArgumentParser
import Gearman
import GearmanServer
import Imaging
import Logging
import NIOCore
import ServiceLifecycle
import UploadFront

struct FrontCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "front",
        abstract: "Run the upload front: a web service that turns each uploaded photo into every size at once.",
        discussion: """
            POST /photos (multipart or a raw image body), GET /photos/ID/SIZE, GET / (an upload page), GET /healthz.
            With no --server it runs the embedded job server and image workers in this process. SIGTERM or SIGINT
            stops taking requests and lets running ones answer.
            """)

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: [.customShort("p"), .long], help: "The HTTP port (0 picks a free one).")
    var port = 8080

    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "A job server as host[:port] whose workers serve the image function; repeat for several. None: embedded.",
            valueName: "host:port"))
    var servers: [GearmanServerAddress] = []

    @OptionGroup(title: "TLS to the job servers") var serverTLS: ClientTLSOptions

    @Option(help: ArgumentHelp("The sizes every photo becomes, NAME=WIDTHxHEIGHT, comma-separated.", valueName: "sizes"))
    var sizes = "small=100x100,medium=640x480,large=1600x1200"

    @Option(help: "The folder that keeps the originals and their sizes.")
    var storage = "photos"

    @Option(help: "The largest photo, in bytes.")
    var maxBytes = ImageLimits.default.maxInputBytes

    @Option(help: "The most pixels a photo may have, in millions.")
    var maxMegapixels = ImageLimits.default.maxMegapixels

    @Option(help: "The most resize jobs in flight at once, over all uploads; more wait their turn.")
    var maxJobs = 32

    @Option(help: "The Gearman function each size is submitted to.")
    var function = "thumbnail"

    @Option(help: "Seconds one size's job may take before the upload answers 503 for it.")
    var jobTimeout = 30.0

    @Option(help: "Image workers of the embedded farm (without --server).")
    var workers = System.coreCount

    @Option(
        help: ArgumentHelp(
            "Where the embedded job server keeps background jobs: memory, or sqlite:PATH (without --server).",
            valueName: "store"))
    var store: StoreLocation = .memory

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    func validate() throws {
        if serverTLS.enabled, servers.isEmpty {
            throw ValidationError("--ssl is for --server; the embedded farm needs none")
        }
        do {
            _ = try FrontConfiguration.sizes(parsing: sizes)
        } catch {
            throw ValidationError("\(error)")
        }
        guard maxJobs > 0 else { throw ValidationError("--max-jobs must be at least 1") }
        guard workers > 0 else { throw ValidationError("--workers must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard jobTimeout > 0 else { throw ValidationError("--job-timeout must be positive") }
    }

    func run() async throws {
        var logger = Logger(label: "gearbox.front")
        logger.logLevel = logLevel
        let configuration = FrontConfiguration(
            host: host, port: port, servers: servers, sizes: try FrontConfiguration.sizes(parsing: sizes),
            storage: storage, limits: ImageLimits(maxInputBytes: maxBytes, maxMegapixels: maxMegapixels),
            maxConcurrentJobs: maxJobs, function: function, jobTimeout: .milliseconds(Int64(jobTimeout * 1000)),
            embeddedWorkers: workers, embeddedStore: store, serverTLS: try serverTLS.context())
        let front = UploadFront(configuration: configuration, logger: logger) { port in
            // A line scripts can wait for, whatever the log level.
            StandardIO.write("listening on http://\(configuration.host):\(port)\n")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: front)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
