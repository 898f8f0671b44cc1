import ArgumentParser
import Gearman
import Logging
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker with built-in functions.",
        discussion: "Functions: \(BuiltinFunctions.all.keys.sorted().joined(separator: ", ")). SIGTERM or SIGINT stops taking jobs and lets running ones finish.")

    @Option(
        name: [.customShort("f"), .long],
        help: "Functions to offer, comma-separated or repeated.")
    var function: [String]

    @OptionGroup var servers: ServerOptions

    @Option(name: [.customShort("c"), .long], help: "Jobs to run at once, from all servers together.")
    var concurrency = 1

    @Option(help: "The id `gearadmin --workers` shows.")
    var clientID: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice

    func validate() throws {
        for name in names where BuiltinFunctions.all[name] == nil {
            throw ValidationError("unknown function \(name); known: \(BuiltinFunctions.all.keys.sorted().joined(separator: ", "))")
        }
        guard concurrency > 0 else { throw ValidationError("concurrency must be at least 1") }
    }

    private var names: [String] {
        function.flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace } }.filter { !$0.isEmpty }
    }

    func run() async throws {
        var logger = Logger(label: "gearbox.worker")
        logger.logLevel = logLevel
        let worker = GearmanWorker(
            servers: servers.servers, concurrency: concurrency, clientID: clientID, logger: logger)
        for name in names {
            worker.register(name, BuiltinFunctions.all[name]!)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
