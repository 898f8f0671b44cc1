import Hummingbird
import NIOCore

/// Hummingbird's request context with the peer's address, from which the admin access rules decide whether
/// a request may retry and purge dead letters.
public struct OperatorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
