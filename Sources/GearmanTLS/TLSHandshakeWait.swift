import NIOCore
import NIOTLS

/// Behind a client's TLS handler: completes `handshake` when the handshake completes, or fails it with a
/// `GearmanTLSError` saying why it did not (an untrusted certificate, a plaintext server, no answer within
/// `timeout`) and closes the connection, so that a connection counts as made only once TLS is up (the
/// future `addGearmanTLSClient` returns).
final class TLSHandshakeWait: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var done = false
    var handshake: EventLoopFuture<Void> { promise.futureResult }

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount) {
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (wait, context) = loopBound.value
            wait.fail(GearmanTLSError("no TLS handshake within \(wait.timeout.nanoseconds / 1_000_000) ms"), context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !done {
            done = true
            deadline?.cancel()
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(GearmanTLSError("TLS handshake failed: \(error)"), context)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(GearmanTLSError("the server closed the connection during the TLS handshake"), context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(GearmanTLSError("TLS handshake abandoned"), context)
    }

    private func fail(_ error: GearmanTLSError, _ context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        deadline?.cancel()
        promise.fail(error)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension TLSHandshakeWait: Sendable {}
