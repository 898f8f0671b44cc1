import NIOSSL

/// TLS for a job server's clients and workers (`GearmanTLSFiles.makeServerContext`).
public struct GearmanServerTLS: Sendable {
    public var context: NIOSSLContext
    /// A port of its own for TLS, beside the plaintext `GearmanServerConfiguration.port`; nil puts TLS on
    /// that port instead, as gearmand's `--ssl` does. 0 picks a free port.
    public var port: Int?

    public init(context: NIOSSLContext, port: Int? = nil) {
        self.context = context
        self.port = port
    }
}
