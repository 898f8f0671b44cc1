import GearmanProtocol
import NIOPosix

extension ClientBootstrap {
    /// Applies every socket option of `detection`.
    func deadPeerDetection(_ detection: DeadPeerDetection) -> ClientBootstrap {
        detection.socketOptions.reduce(self) { $0.channelOption($1.0, value: $1.1) }
    }
}
