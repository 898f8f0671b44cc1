import NIOCore
import NIOSSL

extension ChannelPipeline.SynchronousOperations {
    /// Adds client-side TLS for a job server at `host`: its name is sent (SNI) and checked against the
    /// server's certificate, except for an IP address, which is checked against the certificate's IP
    /// addresses instead. `Channel.gearmanTLSHandshake()` tells when the handshake is done; one that takes
    /// longer than `timeout` fails and closes the connection.
    public func addGearmanTLSClient(context: NIOSSLContext, host: String, timeout: TimeAmount = .seconds(10)) throws {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        try addHandler(NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host))
        try addHandler(TLSHandshakeWait(promise: eventLoop.makePromise(), timeout: timeout))
    }
}

extension Channel {
    /// Completes when the TLS handshake that `addGearmanTLSClient` started has, or fails with
    /// `GearmanTLSError` saying why it did not, the connection closed already; at once for a plaintext
    /// connection.
    public func gearmanTLSHandshake() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard let wait = try? self.pipeline.syncOperations.handler(type: TLSHandshakeWait.self) else {
                return self.eventLoop.makeSucceededVoidFuture()
            }
            return wait.handshake
        }
    }
}
