import GearmanBench
import GearmanServer
import Logging

extension BenchEmbeddedServer {
    /// Gearbox's own job server in this process, quiet, on a free port.
    static let gearbox = BenchEmbeddedServer { threads, body in
        var logger = Logger(label: "gearbox.bench.server")
        logger.logLevel = .critical
        let server = try await GearmanJobServer.bind(
            configuration: GearmanServerConfiguration(host: "127.0.0.1", port: 0, threads: threads), logger: logger)
        return try await server.withRunning(shuttingDownGracefully: false) {
            try await body(server.localAddress.port ?? 0)
        }
    }
}
