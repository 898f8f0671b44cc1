import ArgumentParser
import GearboxMetrics
import Gearman
import ImageFarm
import Imaging
import Logging
import NIOCore
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker: the image functions, or built-in test functions.",
        discussion: """
            Image functions: thumbnail, resize, info (served when -f is not given; `images` names all \
            three). The workload is the image's bytes, optionally preceded by one options line such as \
            `?size=320x240&format=webp&quality=80` and a newline; the option names are `gearbox \
            thumbnail`'s flags. Options a job leaves out come from --size, --format, --quality and \
            --pipeline.

            Built-in functions: \(BuiltinFunctions.all.keys.sorted().joined(separator: ", ")). Both kinds mix \
            in one -f list: -f thumbnail,reverse.

            SIGTERM or SIGINT stops taking jobs and lets running ones finish.

            Examples:
              gearbox worker                                  # thumbnail, resize, info on 127.0.0.1:4730
              gearbox worker -f thumbnail --server a:4730 --server b:4730 --size 320x240 --format webp
              gearman -f resize < large.jpg > thumb.jpg       # 200x150, from any Gearman client
            """)

    @Option(
        name: [.customShort("f"), .long],
        help: "Functions to offer, comma-separated or repeated (default: thumbnail,resize,info).")
    var function: [String] = []

    @OptionGroup var servers: ServerOptions

    @Option(
        name: [.customShort("c"), .long],
        help: "Jobs to run at once, from all servers together (default: the cores with image functions, else 1).")
    var concurrency: Int?

    @Option(help: "The id `gearadmin --workers` shows.")
    var clientID: String?

    @Option(
        name: [.short, .long],
        help: "Default box for thumbnail and resize when a job names none: 200x150, 200x, x150, 200, then >, < or !.")
    var size: String = ImageFunctionDefaults.defaultSize.description

    @Option(help: "Default output format when a job names none: jpeg, png, webp, avif, gif (default: the input's).")
    var format: String?

    @Option(help: "Default quality 1-100 for jpeg, webp and avif when a job names none.")
    var quality: Int?

    @Option(
        help:
            "How far thumbnail shrinks a JPEG as it decodes, when a job does not say: fast (the smallest size that covers the box) or vipsthumbnail (default: fast)."
    )
    var pipeline: ThumbnailPipeline?

    @OptionGroup(title: "Limits") var limits: ImageLimitOptions

    @Option(
        help: ArgumentHelp(
            "Seconds one image job may run before libvips is stopped and the job fails; a job's time_limit can only shorten it.",
            valueName: "seconds"))
    var timeLimit = Double(ImageFunctionDefaults.defaultTimeLimit.components.seconds)

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://METRICS-HOST:PORT/metrics.", valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("Address the metrics port listens on.", valueName: "address"))
    var metricsHost = "127.0.0.1"

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    /// Each name, as an image function or a built-in one.
    enum Offered: Hashable {
        case image(ImageFunction)
        case builtin(String)
    }

    static func offered(_ arguments: [String]) throws -> [Offered] {
        let names = arguments.flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace } }
            .filter { !$0.isEmpty }
        if names.isEmpty { return ImageFunction.allCases.map(Offered.image) }
        var result: [Offered] = []
        for name in names {
            let next: [Offered]
            if name == "images" {
                next = ImageFunction.allCases.map(Offered.image)
            } else if let function = ImageFunction(rawValue: name) {
                next = [.image(function)]
            } else if BuiltinFunctions.all[name] != nil {
                next = [.builtin(name)]
            } else {
                let known = ImageFunction.allCases.map(\.rawValue) + ["images"] + BuiltinFunctions.all.keys.sorted()
                throw ValidationError("unknown function \(name); known: \(known.joined(separator: ", "))")
            }
            for item in next where !result.contains(item) { result.append(item) }
        }
        return result
    }

    func defaults() throws -> ImageFunctionDefaults {
        let box: ImageSize
        do { box = try ImageSize(parsing: size) } catch { throw ValidationError("--size: \(error)") }
        var imageFormat: ImageFormat?
        if let format {
            guard let parsed = ImageFormat(writableName: format) else {
                throw ValidationError("--format: cannot write \(format); use jpeg, png, webp, avif or gif")
            }
            imageFormat = parsed
        }
        if let quality, !(1...100).contains(quality) {
            throw ValidationError("--quality must be from 1 to 100")
        }
        return ImageFunctionDefaults(
            size: box, format: imageFormat, quality: quality, pipeline: pipeline, timeLimit: .seconds(flag: timeLimit))
    }

    func validate() throws {
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535")
        }
        _ = try Self.offered(function)
        _ = try defaults()
        if let concurrency, concurrency < 1 { throw ValidationError("concurrency must be at least 1") }
        guard timeLimit > 0, timeLimit <= 86_400 else {
            throw ValidationError("--time-limit must be 0...86400 seconds")
        }
    }

    func run() async throws {
        let logger = try logging.makeLogger(label: "gearbox.worker", level: .notice)
        let offered = try Self.offered(function)
        let imageFunctions = offered.compactMap { if case .image(let f) = $0 { f } else { nil } }
        let jobs = concurrency ?? (imageFunctions.isEmpty ? 1 : System.coreCount)
        let exposition = PrometheusExposition()
        let measures = metricsPort != nil
        let worker = GearmanWorker(
            servers: servers.servers, concurrency: jobs, clientID: clientID, tls: try servers.tls.context(),
            metrics: measures ? WorkerMetrics(factory: exposition.factory) : nil, logger: logger)
        for case .builtin(let name) in offered {
            worker.register(name, BuiltinFunctions.all[name]!)
        }
        var processor: ImageProcessor?
        if !imageFunctions.isEmpty {
            let images = ImageProcessor(
                configuration: .init(
                    threads: jobs, limits: limits.limits()))
            ImageWorkerFunctions.register(
                imageFunctions, on: worker,
                runner: ImageFunctionRunner(
                    processor: images, defaults: try defaults(),
                    metrics: measures ? ImageJobMetrics(factory: exposition.factory) : nil))
            processor = images
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: worker)]
        if let metricsPort {
            services.append(
                .init(
                    service: MetricsEndpoint(
                        host: metricsHost, port: metricsPort, exposition: exposition, beforeScrape: {}, logger: logger))
            )
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await processor?.shutdown()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
