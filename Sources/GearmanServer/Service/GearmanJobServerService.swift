import Logging
import ServiceLifecycle

/// A job server that binds when it starts running. In a `ServiceGroup` its port therefore opens only once
/// the group handles SIGTERM and SIGINT, so a signal sent as soon as the port answers stops it gracefully
/// instead of killing the process. `gearbox server` runs this; embedders that need the bound address
/// before running use `GearmanJobServer.bind`.
public struct GearmanJobServerService: Service {
    public let configuration: GearmanServerConfiguration
    private let logger: Logger

    public init(configuration: GearmanServerConfiguration, logger: Logger = Logger(label: "gearbox.server")) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let server = try await GearmanJobServer.bind(configuration: configuration, logger: logger)
        try await server.run()
    }
}
