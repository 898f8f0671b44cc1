import GearmanProtocol
import NIOPosix

extension ServerBootstrap {
    /// Applies every socket option of `detection` to each accepted connection.
    func deadPeerDetection(_ detection: DeadPeerDetection) -> ServerBootstrap {
        detection.socketOptions.reduce(self) { $0.childChannelOption($1.0, value: $1.1) }
    }
}
