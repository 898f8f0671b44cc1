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
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let outcome: Result<BenchResult, any Error>
            do {
                outcome = .success(try await body(server.localAddress.port ?? 0))
            } catch {
                outcome = .failure(error)
            }
            server.shutdown(graceful: false)
            try await group.waitForAll()
            return try outcome.get()
        }
    }
}
