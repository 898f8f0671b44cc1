import ArgumentParser
import Foundation
import Gearman
import GearmanBench
import GearmanServer
import Imaging
import Logging
import NIOCore
import PhotoMetadata
import ServiceLifecycle
import UploadFront

struct FrontCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "front",
        abstract: "Run the upload front: a web service that turns each uploaded photo into every size at once.",
        subcommands: [FrontServeCommand.self, FrontBackfillCommand.self, FrontSignCommand.self],
        defaultSubcommand: FrontServeCommand.self)
}

/// What photos become, where they are kept and which job servers make them: shared by `front` and
/// `front backfill`, which must agree on all of it.
struct FrontPhotoOptions: ParsableArguments {
    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "A job server as host[:port] whose workers serve the image function; repeat for several. None: embedded.",
            valueName: "host:port"))
    var servers: [GearmanServerAddress] = []

    @OptionGroup(title: "TLS to the job servers") var serverTLS: ClientTLSOptions

    @Option(
        help: ArgumentHelp(
            "The sizes every photo becomes, comma-separated: NAME=WIDTHxHEIGHT[:crop=attention][:quality=70][:format=png].",
            valueName: "sizes"))
    var sizes = "small=100x100,medium=640x480,large=1600x1200"

    @Option(
        help: ArgumentHelp(
            "Modern formats made beside each size's JPEG or PNG, preferred first (empty: none).", valueName: "formats"))
    var formats = "avif,webp"

    @Option(
        help: ArgumentHelp(
            "Those of --formats made by a background job once the upload is answered, not before (empty: all at upload).",
            valueName: "formats"))
    var deferredFormats = "avif"

    @Option(
        help: ArgumentHelp("Pixel densities each size is made at: 1,2 adds @2x for srcset.", valueName: "densities"))
    var densities = "1,2"

    @Option(help: "The folder that keeps the originals and their sizes.")
    var storage = "photos"

    @Option(help: "The Gearman function each size is submitted to.")
    var function = "thumbnail"

    @Option(help: "The background function that makes a photo's missing files.")
    var backfillFunction = "gearbox_front_backfill"

    func validate() throws {
        if serverTLS.enabled, servers.isEmpty {
            throw ValidationError("--ssl is for --server; the embedded farm needs none")
        }
        do {
            _ = try SizePreset.list(parsing: sizes)
            _ = try FrontConfiguration.formats(parsing: formats)
            _ = try FrontConfiguration.formats(parsing: deferredFormats)
            _ = try FrontConfiguration.densities(parsing: densities)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The configuration these options describe, on top of `base`.
    func apply(to base: FrontConfiguration) throws -> FrontConfiguration {
        var configuration = base
        configuration.servers = servers
        configuration.serverTLS = try serverTLS.context()
        configuration.sizes = try SizePreset.list(parsing: sizes)
        configuration.formats = try FrontConfiguration.formats(parsing: formats)
        configuration.deferredFormats = try FrontConfiguration.formats(parsing: deferredFormats)
        configuration.densities = try FrontConfiguration.densities(parsing: densities)
        configuration.storage = storage
        configuration.function = function
        configuration.backfillFunction = backfillFunction
        return configuration
    }
}

/// The keys that sign photo URLs and how long a signed URL lasts: shared by `front` and `front sign`, which
/// must agree on both.
struct FrontSigningOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A key (32 bytes or more) that signs every photo URL; repeat to rotate: the first signs, all are accepted. Unsigned URLs get 403.",
            valueName: "key"))
    var signingKey: [String] = []

    @Option(
        help: ArgumentHelp(
            "A file holding signing keys, one per line (as --signing-key, without showing them to ps).",
            valueName: "path"))
    var signingKeyFile: String?

    @Option(help: ArgumentHelp("Seconds a signed URL stays valid (0: for ever).", valueName: "seconds"))
    var urlLifetime = 0

    func validate() throws {
        guard urlLifetime >= 0 else { throw ValidationError("--url-lifetime must be 0 or more") }
        do {
            _ = try signer()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// nil when no key is given.
    func signer() throws -> URLSigner? {
        var keys = signingKey
        if let signingKeyFile {
            let text = try String(contentsOfFile: signingKeyFile, encoding: .utf8)
            keys += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        guard !keys.isEmpty else { return nil }
        return try URLSigner(keys: keys, lifetime: urlLifetime > 0 ? .seconds(urlLifetime) : nil)
    }
}

struct FrontServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve uploads (the default).",
        discussion: """
            POST /photos (multipart or a raw image body), GET /photos/ID/SIZE (the format the browser's Accept \
            prefers), GET /photos/ID/SIZE@2x.webp (one file), GET /photos/ID/image?size=WxH&... (any size, \
            signed: see `gearbox front sign`), GET / (an upload page), GET /healthz, GET /metrics.
            With no --server it runs the embedded job server and image workers in this process. SIGTERM or SIGINT
            stops taking requests and lets running ones answer.
            """)

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: [.customShort("p"), .long], help: "The HTTP port (0 picks a free one).")
    var port = 8080

    @OptionGroup var photos: FrontPhotoOptions

    @OptionGroup(title: "Limits") var limits: ImageLimitOptions

    @Option(
        help: """
            The most resize jobs in flight at once, over all uploads; more wait their turn (default: 32; with the \
            embedded farm, two per worker, since each job in flight holds a copy of its photo).
            """)
    var maxJobs: Int?

    @Option(help: "The most jobs waiting for a turn; an upload that needs more is answered 429 with Retry-After.")
    var maxQueue = 512

    @Option(help: "Seconds the front waits for one file's job, from asking for a turn to the result (then 503).")
    var jobTimeout = 30.0

    @Option(help: "Seconds a worker may work on one file before it stops libvips and fails the job.")
    var jobTimeLimit = 20.0

    @Option(
        help: ArgumentHelp(
            "Metadata of the original to keep, comma-separated: copyright, artist, description, datetime. Location, camera and everything else are removed.",
            valueName: "fields"))
    var keepMetadata = ""

    @OptionGroup(title: "Signed URLs") var signing: FrontSigningOptions

    @Flag(
        help:
            "Serve /photos/ID/image?OPTIONS unsigned: anyone may then make the farm render any size. Without it, that URL needs --signing-key-file and a signature."
    )
    var unsafeTransforms = false

    @Option(
        help: ArgumentHelp(
            "The most bytes the results of /photos/ID/image keep on disk (STORAGE/.transforms): 1073741824, 512M, 2G.",
            valueName: "bytes"))
    var cacheSize = "1G"

    @Flag(help: "Queue the backfill of every photo that lacks a file when the front starts.")
    var backfill = false

    @Option(help: "Image workers of the embedded farm (without --server).")
    var workers = System.coreCount

    @Option(
        help: ArgumentHelp(
            "Where the embedded job server keeps background jobs: memory, or sqlite:PATH (without --server).",
            valueName: "store"))
    var store: StoreLocation = .memory

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    func validate() throws {
        if let maxJobs, maxJobs < 1 { throw ValidationError("--max-jobs must be at least 1") }
        guard maxQueue >= 0 else { throw ValidationError("--max-queue must be 0 or more") }
        guard PayloadSize.byteCount(parsing: Substring(cacheSize)) != nil else {
            throw ValidationError("--cache-size '\(cacheSize)' is not a byte count such as 1073741824, 512M or 2G")
        }
        guard workers > 0 else { throw ValidationError("--workers must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard jobTimeout > 0, jobTimeLimit > 0 else {
            throw ValidationError("--job-timeout and --job-time-limit must be positive")
        }
        do {
            _ = try FrontConfiguration.keptMetadata(parsing: keepMetadata)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let logger = try logging.makeLogger(label: "gearbox.front", level: .notice)
        var configuration = try photos.apply(
            to: FrontConfiguration(
                host: host, port: port, limits: limits.limits(),
                maxConcurrentJobs: maxJobs ?? (photos.servers.isEmpty ? 2 * workers : 32), maxQueuedJobs: maxQueue,
                jobTimeout: .seconds(flag: jobTimeout), jobTimeLimit: .seconds(flag: jobTimeLimit),
                embeddedWorkers: workers, embeddedStore: store))
        configuration.keptMetadata = try FrontConfiguration.keptMetadata(parsing: keepMetadata)
        configuration.signer = try signing.signer()
        configuration.backfillAtStart = backfill
        configuration.unsafeTransforms = unsafeTransforms
        configuration.transformCacheBytes = PayloadSize.byteCount(parsing: Substring(cacheSize)) ?? 0
        let listening = configuration
        let front = UploadFront(configuration: configuration, logger: logger) { port in
            // A line scripts can wait for, whatever the log level.
            StandardIO.write("listening on http://\(listening.host):\(port)\n")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: front)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct FrontBackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Queue the files photos lack after --sizes, --formats or --densities changed.",
        discussion: """
            Finds every photo in --storage that lacks a file of the given sizes, formats and densities, and \
            queues one background job per photo on --server, where a running `gearbox front` with the same \
            options makes what is missing. Then it waits until the queue is empty, printing what is left \
            (--no-wait: it returns once queued). A photo queued twice runs once, and a job makes only what is \
            missing, so it is safe to interrupt and run again. A front without --server backfills with \
            `gearbox front --backfill` instead.
            """)

    @OptionGroup var photos: FrontPhotoOptions

    @Flag(help: "Return once every job is queued.")
    var noWait = false

    @Option(help: "Seconds to wait for the queue to empty before giving up (0: no limit).")
    var timeout = 0.0

    func validate() throws {
        guard !photos.servers.isEmpty else {
            throw ValidationError(
                "backfill needs the job server a front works for (--server); without one, run `gearbox front --backfill`"
            )
        }
    }

    func run() async throws {
        let configuration = try photos.apply(to: FrontConfiguration())
        let store = try PhotoStore(root: configuration.storage)
        let backfill = PhotoBackfill(configuration: configuration, store: store)
        let client = GearmanClient(servers: configuration.servers, tls: configuration.serverTLS)
        do {
            let queued = try await backfill.queue(client: client) { done, total in
                if done == total || done % 100 == 0 {
                    StandardIO.write("backfill: queued \(done) of \(total) photos\n")
                }
            }
            await client.shutdown()
            if queued == 0 { StandardIO.write("backfill: every photo has every file\n") }
            if noWait || queued == 0 { return }
        } catch {
            await client.shutdown()
            throw error
        }
        try await waitForQueue(configuration)
    }

    /// Polls the servers' `status` until no backfill job is queued or running.
    private func waitForQueue(_ configuration: FrontConfiguration) async throws {
        let started = ContinuousClock.now
        var lastPrinted = -1
        while true {
            var left = 0
            for server in configuration.servers {
                let text = try await GearmanAdminClient(server: server, tls: configuration.serverTLS).send("status")
                left += FarmStatus.parseStatus(text)[configuration.backfillFunction]?.total ?? 0
            }
            if left == 0 {
                StandardIO.write("backfill: done\n")
                return
            }
            if left != lastPrinted {
                StandardIO.write("backfill: \(left) photos left\n")
                lastPrinted = left
            }
            if timeout > 0, ContinuousClock.now - started > .seconds(flag: timeout) {
                throw ValidationError("backfill: \(left) photos still queued after \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
