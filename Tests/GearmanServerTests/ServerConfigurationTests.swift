import GearmanProtocol
import GearmanServer
import Testing

/// Configurations the server cannot run with are refused by `bind`, with the property at fault.
@Suite struct ServerConfigurationTests {
    @Test func aTooLongJobHandlePrefixIsAnErrorNotACrash() async throws {
        var configuration = GearmanServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.jobHandlePrefix = String(repeating: "p", count: JobHandleFormat.maximumPrefixLength + 1)
        await #expect(throws: GearmanServerConfigurationError.self) {
            _ = try await GearmanJobServer.bind(configuration: configuration)
        }
    }
}
