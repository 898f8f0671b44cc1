import NIOCore
import NIOSSL

extension ChannelPipeline.SynchronousOperations {
    /// Adds client-side TLS for a job server at `host`: its name is sent (SNI) and checked against the
    /// server's certificate, except for an IP address, which is checked against the certificate's IP
    /// addresses instead. Returns the handshake: await it before the first write (one that takes longer than
    /// `timeout` fails and closes the connection). Keep it from here, as a channel initializer's result: a
    /// failed handshake closes the connection, and its handlers, with the reason, go with it.
    public func addGearmanTLSClient(
        context: NIOSSLContext, host: String, timeout: TimeAmount = .seconds(10)
    ) throws -> EventLoopFuture<Void> {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        try addHandler(NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host))
        let wait = TLSHandshakeWait(promise: eventLoop.makePromise(), timeout: timeout)
        try addHandler(wait)
        return wait.handshake
    }
}

extension Channel {
    /// Completes when the TLS handshake that `addGearmanTLSClient` started has, or fails with
    /// `GearmanTLSError` saying why it did not, the connection closed already; at once for an open plaintext
    /// connection. A connection that is closed by the time this looks fails, TLS or not: its handlers, and
    /// with them the reason, are gone (keep the future `addGearmanTLSClient` returns to have it).
    @available(*, deprecated, message: "keep the future that addGearmanTLSClient returns")
    public func gearmanTLSHandshake() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            if let wait = try? self.pipeline.syncOperations.handler(type: TLSHandshakeWait.self) {
                return wait.handshake
            }
            guard self.isActive else {
                return self.eventLoop.makeFailedFuture(GearmanTLSError("the connection closed before it could be used"))
            }
            return self.eventLoop.makeSucceededVoidFuture()
        }
    }
}
