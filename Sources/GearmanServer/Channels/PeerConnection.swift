import NIOCore

/// A server connection as the engine's other connections see it: the flusher of its event loop, and its
/// handler, which only that loop may touch.
struct PeerConnection: Sendable {
    let handler: NIOLoopBound<ServerConnectionHandler>
    let flusher: LoopFlusher

    var eventLoop: any EventLoop { flusher.eventLoop }
}
