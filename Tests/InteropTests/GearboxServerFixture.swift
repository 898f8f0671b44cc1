import GearmanServer
import Logging
import NIOCore
import TestSupport

/// A Gearbox job server in the test process, on a free port, stopped when the test ends.
struct GearboxServerFixture {
    let server: GearmanJobServer
    let port: Int
    private let runner: Task<Void, any Error>

    static func start(
        jobRetries: Int = 0, maximumPacketSize: Int = 64 * 1024 * 1024, threads: Int = 2
    ) async throws -> GearboxServerFixture {
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        let server = try await GearmanJobServer.bind(
            configuration: GearmanServerConfiguration(
                host: "127.0.0.1", port: 0, threads: threads, jobRetries: jobRetries,
                maximumPacketSize: maximumPacketSize, shutdownGracePeriod: .milliseconds(200)),
            logger: logger)
        let runner = Task { try await server.run() }
        return GearboxServerFixture(server: server, port: server.localAddress.port!, runner: runner)
    }

    func stop() async {
        server.shutdown(graceful: false)
        _ = await runner.result
    }
}

/// Runs `body` with a started server and stops the server afterwards, whatever happens.
func withGearboxServer<Result>(
    jobRetries: Int = 0, maximumPacketSize: Int = 64 * 1024 * 1024, threads: Int = 2,
    _ body: (GearboxServerFixture) async throws -> Result
) async throws -> Result {
    let fixture = try await GearboxServerFixture.start(
        jobRetries: jobRetries, maximumPacketSize: maximumPacketSize, threads: threads)
    do {
        let result = try await body(fixture)
        await fixture.stop()
        return result
    } catch {
        await fixture.stop()
        throw error
    }
}
