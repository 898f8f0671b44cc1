import DequeModule
import GearmanProtocol
import Logging
import NIOCore

/// One client, worker or admin connection: splits its bytes into frames, feeds them to the engine and writes
/// what it answers.
///
/// Frames are decoded here (`GearmanFrameReader`) rather than by a `ByteToMessageHandler` in front: that saves
/// boxing every frame into an `NIOAny` and casting it back, a large share of a packet's cost.
///
/// Everything written while the event loop handles its ready connections, to this connection or to others on
/// the same loop, is flushed once at the end of that turn (see `LoopFlusher`). All state is touched on the
/// channel's event loop only.
/// Unchecked: other loops hold it only to hop onto its event loop (`eventLoop.execute`) before touching it.
/// A per-message `NIOLoopBound` check on the server's hot path is left to the speed work, which reshapes it.
final class ServerConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: ServerCore
    private var reader: GearmanFrameReader
    /// Set once the input broke the protocol: nothing after it is read.
    private var inputFailed = false
    let eventLoop: any EventLoop
    private var context: ChannelHandlerContext?
    private var id = ConnectionID(0)
    private var outbound = ByteBuffer()
    private var hasPendingWrites = false
    private var isClosing = false
    private var actions: [ServerAction] = []
    private var deliveries: [ServerCore.Delivery] = []
    /// Flushes this loop's connections once per turn; set when the channel becomes active.
    private(set) var flusher: LoopFlusher?
    /// Set while this connection waits in its flusher's list.
    var isQueuedForFlush = false
    /// Events decoded during the current read batch, applied together in `channelReadComplete`.
    private var pending: [Event] = []
    /// Messages held back behind a background job's JOB_CREATED until its row is committed, so that the
    /// client hears its answers in the order it asked.
    private var held = Deque<HeldMessage>()

    private enum HeldMessage {
        case awaitingStore(JobHandle)
        case ready(ServerMessage)
    }

    private enum Event {
        case request(GearmanRequest)
        case admin(GearmanAdminCommand)
        case protocolError(GearmanProtocolError)
    }

    init(core: ServerCore, eventLoop: any EventLoop, maximumPacketSize: Int) {
        self.core = core
        reader = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: maximumPacketSize))
        self.eventLoop = eventLoop
        actions.reserveCapacity(16)
        pending.reserveCapacity(16)
        deliveries.reserveCapacity(16)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 1024)
        flusher = core.flusher(for: eventLoop)
        let address = context.channel.remoteAddress
        let host = address?.ipAddress ?? "-"
        id = core.register(self, host: host, isLoopback: Self.isLoopback(address))
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // `printf status | nc host 4730` ends its only line with the end of the stream.
        if !inputFailed {
            reader.readLast { append($0) }
        }
        processPending()
        actions.removeAll(keepingCapacity: true)
        deliveries.removeAll(keepingCapacity: true)
        core.unregister(id, actions: &actions, deliveries: &deliveries)
        self.context = nil
        ServerCore.deliverNow(deliveries)
        deliveries.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing, !inputFailed else { return }
        do {
            try reader.read(unwrapInboundIn(data), allocator: context.channel.allocator) { append($0) }
        } catch let error as GearmanProtocolError {
            core.logger.info(
                "closing connection after a protocol error",
                metadata: ["connection": "\(id)", "error": "\(error)"])
            inputFailed = true
            pending.append(.protocolError(error))
            return
        } catch {
            preconditionFailure("GearmanFrameDecoder throws only GearmanProtocolError")
        }
    }

    private func append(_ frame: GearmanFrame) {
        switch frame {
        case .packet(let packet):
            do {
                pending.append(.request(try GearmanRequest(packet: packet)))
            } catch let error as GearmanProtocolError {
                pending.append(.protocolError(error))
            } catch {
                preconditionFailure("GearmanRequest(packet:) throws only GearmanProtocolError")
            }
        case .adminLine(let line):
            pending.append(.admin(GearmanAdminCommand(line: line)))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        processPending()
        flushBatch()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        processPending()
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

    /// Applies every event of the read batch under one acquisition of the engine's lock, in order, stopping
    /// after one that closes the connection.
    private func processPending() {
        guard !pending.isEmpty else { return }
        let id = self.id
        let now = ServerCore.now()
        var events: [Event] = []
        swap(&events, &pending)
        defer {
            events.removeAll(keepingCapacity: true)
            swap(&events, &pending)
        }
        process { engine, actions in
            for event in events {
                let before = actions.count
                switch event {
                case .request(let request):
                    engine.handle(request, from: id, now: now, into: &actions)
                case .admin(let command):
                    engine.handle(command, from: id, into: &actions)
                case .protocolError(let error):
                    engine.protocolError(error, from: id, into: &actions)
                }
                if actions[before...].contains(where: { if case .close = $0 { true } else { false } }) {
                    break
                }
            }
        }
    }

    // MARK: Performing actions

    private func process(_ event: (JobServerEngine, inout [ServerAction]) -> Void) {
        actions.removeAll(keepingCapacity: true)
        deliveries.removeAll(keepingCapacity: true)
        core.process(from: id, actions: &actions, deliveries: &deliveries, event)
        guard let flusher else { return }
        for delivery in deliveries {
            let peer = delivery.peer
            if peer.flusher === flusher {
                peer.enqueue(delivery.message)
                flusher.markDirty(peer)
            } else if let peerFlusher = peer.flusher {
                flusher.send(delivery, via: peerFlusher)
            }
        }
        for action in actions {
            switch action {
            case .send(_, let message):
                enqueue(message)
                flusher.markDirty(self)
            case .close:
                isClosing = true
            case .startJobTimeout(let handle, let attempt, let milliseconds):
                let core = self.core
                eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                    core.jobTimedOut(handle, attempt: attempt)
                }
            case .scheduleEpochWakeup, .shutdown:
                core.performDetached([action])
            case .store, .forget:
                break  // taken by the core, in its lock
            }
        }
    }

    func enqueue(_ message: ServerMessage) {
        guard context != nil else { return }
        switch message {
        case .jobCreatedWhenStored(let handle):
            held.append(.awaitingStore(handle))
        case .stored(let handle, _):
            if let index = held.firstIndex(where: { if case .awaitingStore(handle) = $0 { true } else { false } }) {
                held[index] = .ready(message)
            }
            while case .ready(let ready)? = held.first {
                held.removeFirst()
                write(ready)
            }
        default:
            if held.isEmpty {
                write(message)
            } else {
                held.append(.ready(message))
            }
        }
    }

    private func write(_ message: ServerMessage) {
        guard let context else { return }
        if case .storeStatus = message, let writer = core.storeWriter {
            let state = writer.state
            GearmanAdminReply.storeStatus(
                location: "\(writer.location)", unwritten: state.inFlight, transactions: state.transactions,
                failure: state.lastFailure
            ).encode(into: &outbound)
            hasPendingWrites = true
            return
        }
        if let trailer = message.encodeHead(into: &outbound, handles: core.handleFormat) {
            // A large workload goes out by reference, after what was encoded so far, in the same vector write.
            context.write(wrapOutboundOut(outbound), promise: nil)
            outbound = context.channel.allocator.buffer(capacity: 1024)
            context.write(wrapOutboundOut(trailer), promise: nil)
        }
        hasPendingWrites = true
    }

    func flushIfNeeded() {
        guard let context, hasPendingWrites else { return }
        hasPendingWrites = false
        if outbound.readableBytes > 0 {
            context.write(wrapOutboundOut(outbound), promise: nil)
            outbound.clear()
        }
        context.flush()
    }

    /// Ends a read batch. Writes are flushed by this loop's `LoopFlusher` at the end of its turn; a connection
    /// that is closing writes what it has and closes now.
    private func flushBatch() {
        if isClosing {
            closeAfterWriting()
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
