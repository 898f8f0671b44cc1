import Gearman
import GearmanTLS
import NIOCore
import NIOPosix
import NIOSSL
import TestSupport
import Testing

/// A client's TLS handshake against a real `gearbox server --ssl`, awaited only after it has failed and its
/// connection has closed: the future `addGearmanTLSClient` returns keeps the reason (a look in the pipeline
/// by then found no handshake and called the connection plaintext, so that the caller's first write failed
/// with "I/O on closed channel" instead).
@Suite struct TLSHandshakeTests {
    @Test func aFailedHandshakeKeepsItsReasonAfterItsConnectionCloses() async throws {
        let certificates = try await TestCertificates()
        let (server, port) = try await startGearboxSSLServer(certificates)
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup.singleton

        // Trusting only the system's roots, the client refuses the test authority's certificate.
        let context = try NIOSSLContext(configuration: .makeClientConfiguration())
        let (channel, handshake) = try await ClientBootstrap(group: group)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    (
                        channel,
                        try channel.pipeline.syncOperations.addGearmanTLSClient(context: context, host: "127.0.0.1")
                    )
                }
            }
        // Bounded: the handshake gives up after 10 s and closes the connection itself.
        try await channel.closeFuture.get()

        let kept = await #expect(throws: GearmanTLSError.self) { try await handshake.get() }
        #expect(kept?.description.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(String(describing: kept))")

        // And through the admin client, which keeps its handshake from the moment it connects.
        let admin = GearmanAdminClient(
            server: GearmanServerAddress(host: "127.0.0.1", port: port), eventLoopGroup: group, tls: context)
        let refused = await #expect(throws: (any Error).self) { try await admin.send("getpid") }
        #expect(
            "\(String(describing: refused))".contains("CERTIFICATE_VERIFY_FAILED"), "\(String(describing: refused))")
    }
}
