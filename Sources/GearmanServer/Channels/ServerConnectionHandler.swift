import GearmanProtocol
import Logging
import NIOCore

/// One client, worker or admin connection: feeds frames to the engine and writes what it answers.
///
/// Everything written while a read batch is processed, to this connection or to others on the same event
/// loop, is flushed once in `channelReadComplete`. All state is touched on the channel's event loop only.
final class ServerConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = GearmanFrame
    typealias OutboundOut = ByteBuffer

    private let core: ServerCore
    let eventLoop: EventLoop
    private var context: ChannelHandlerContext?
    private var id = ConnectionID(0)
    private var outbound = ByteBuffer()
    private var hasPendingWrites = false
    private var isClosing = false
    private var actions: [ServerAction] = []
    private var deliveries: [ServerCore.Delivery] = []
    /// Peers on this loop written to during the current read batch.
    private var peersToFlush: [ServerConnectionHandler] = []
    private var isQueuedForFlush = false
    /// Messages for peers on other loops, sent in one hop per loop at the end of the read batch.
    private var remoteDeliveries: [ObjectIdentifier: [ServerCore.Delivery]] = [:]

    init(core: ServerCore, eventLoop: EventLoop) {
        self.core = core
        self.eventLoop = eventLoop
        actions.reserveCapacity(16)
        deliveries.reserveCapacity(16)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 1024)
        let address = context.channel.remoteAddress
        let host = address?.ipAddress ?? "-"
        id = core.register(self, host: host, isLoopback: Self.isLoopback(address))
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        actions.removeAll(keepingCapacity: true)
        deliveries.removeAll(keepingCapacity: true)
        core.unregister(id, actions: &actions, deliveries: &deliveries)
        self.context = nil
        ServerCore.deliverNow(deliveries)
        deliveries.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        let frame = unwrapInboundIn(data)
        let id = self.id
        switch frame {
        case .packet(let packet):
            let request: GearmanRequest
            do {
                request = try GearmanRequest(packet: packet)
            } catch let error as GearmanProtocolError {
                process { engine, actions in engine.protocolError(error, from: id, into: &actions) }
                return
            } catch {
                preconditionFailure("GearmanRequest(packet:) throws only GearmanProtocolError")
            }
            let now = ServerCore.now()
            process { engine, actions in engine.handle(request, from: id, now: now, into: &actions) }
        case .adminLine(let line):
            let command = GearmanAdminCommand(line: line)
            process { engine, actions in engine.handle(command, from: id, into: &actions) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushBatch()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !isClosing else { return }
        if let error = error as? GearmanProtocolError {
            core.logger.info(
                "closing connection after a protocol error",
                metadata: ["connection": "\(id)", "error": "\(error)"])
            let id = self.id
            process { engine, actions in engine.protocolError(error, from: id, into: &actions) }
            flushBatch()
        } else {
            core.logger.debug("connection error", metadata: ["connection": "\(id)", "error": "\(error)"])
            close()
        }
    }

    // MARK: Performing actions

    private func process(_ event: (JobServerEngine, inout [ServerAction]) -> Void) {
        actions.removeAll(keepingCapacity: true)
        deliveries.removeAll(keepingCapacity: true)
        core.process(from: id, actions: &actions, deliveries: &deliveries, event)
        for delivery in deliveries {
            let peer = delivery.peer
            if peer.eventLoop === eventLoop {
                peer.enqueue(delivery.message)
                if !peer.isQueuedForFlush {
                    peer.isQueuedForFlush = true
                    peersToFlush.append(peer)
                }
            } else {
                remoteDeliveries[ObjectIdentifier(peer.eventLoop), default: []].append(delivery)
            }
        }
        for action in actions {
            switch action {
            case .send(_, let message):
                enqueue(message)
            case .close:
                isClosing = true
            case .startJobTimeout(let handle, let attempt, let milliseconds):
                let core = self.core
                eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                    core.jobTimedOut(handle, attempt: attempt)
                }
            case .scheduleEpochWakeup, .shutdown:
                core.performDetached([action])
            }
        }
    }

    func enqueue(_ message: ServerMessage) {
        guard context != nil else { return }
        message.encode(into: &outbound, handles: core.handleFormat)
        hasPendingWrites = true
    }

    func flushIfNeeded() {
        guard let context, hasPendingWrites else { return }
        hasPendingWrites = false
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        outbound.clear()
    }

    private func flushBatch() {
        if isClosing {
            closeAfterWriting()
        } else {
            flushIfNeeded()
        }
        for peer in peersToFlush {
            peer.isQueuedForFlush = false
            peer.flushIfNeeded()
        }
        peersToFlush.removeAll(keepingCapacity: true)
        if !remoteDeliveries.isEmpty {
            for batch in remoteDeliveries.values {
                let loop = batch[0].peer.eventLoop
                loop.execute {
                    for delivery in batch {
                        delivery.peer.enqueue(delivery.message)
                    }
                    for delivery in batch {
                        delivery.peer.flushIfNeeded()
                    }
                }
            }
            remoteDeliveries.removeAll(keepingCapacity: true)
        }
    }

    private func closeAfterWriting() {
        guard let context else { return }
        let written = context.writeAndFlush(wrapOutboundOut(outbound))
        outbound.clear()
        hasPendingWrites = false
        let channel = context.channel
        written.whenComplete { _ in channel.close(promise: nil) }
    }

    func close() {
        isClosing = true
        context?.close(promise: nil)
    }

    private static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
