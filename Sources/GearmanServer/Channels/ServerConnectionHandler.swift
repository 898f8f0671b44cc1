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
/// channel's event loop only: other connections reach it through its `PeerConnection`.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: ServerCore
    private let adminAccess: AdminAccess
    @exclusivity(unchecked) private var reader: GearmanFrameReader
    /// Set once the input broke the protocol: nothing after it is read.
    @exclusivity(unchecked) private var inputFailed = false
    let eventLoop: any EventLoop
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    private var id = ConnectionID(0)
    @exclusivity(unchecked) private var outbound = ByteBuffer()
    @exclusivity(unchecked) private var hasPendingWrites = false
    @exclusivity(unchecked) private var isClosing = false
    @exclusivity(unchecked) private var actions: [ServerAction] = []
    @exclusivity(unchecked) private var peers: [ServerCore.Peer] = []
    /// Flushes this loop's connections once per turn; set when the channel becomes active.
    private(set) var flusher: LoopFlusher?
    /// Set while this connection waits in its flusher's list.
    @exclusivity(unchecked) var isQueuedForFlush = false
    /// Frames of the current read batch, decoded and applied together in `channelReadComplete`: kept as
    /// frames (a slice each) rather than decoded requests, which are several times larger to copy.
    @exclusivity(unchecked) private var pending: [GearmanFrame] = []
    /// Set when the input broke the protocol after the frames in `pending`.
    private var pendingFailure: GearmanProtocolError?
    /// Messages held back behind a background job's JOB_CREATED until its row is committed, so that the
    /// client hears its answers in the order it asked.
    @exclusivity(unchecked) private var held = Deque<HeldMessage>()

    private enum HeldMessage {
        case awaitingStore(JobHandle)
        case ready(ServerMessage)
    }

    init(core: ServerCore, eventLoop: any EventLoop, maximumPacketSize: Int, adminAccess: AdminAccess) {
        self.core = core
        self.adminAccess = adminAccess
        reader = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: maximumPacketSize))
        self.eventLoop = eventLoop
        actions.reserveCapacity(16)
        pending.reserveCapacity(16)
        peers.reserveCapacity(16)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 1024)
        let flusher = core.flusher(for: eventLoop)
        self.flusher = flusher
        let address = context.channel.remoteAddress
        let host = address?.ipAddress ?? "-"
        id = core.register(
            PeerConnection(handler: NIOLoopBound(self, eventLoop: eventLoop), flusher: flusher), host: host,
            mayChangeState: adminAccess.allowsChanges(from: address))
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // `printf status | nc host 4730` ends its only line with the end of the stream.
        if !inputFailed {
            reader.readLast { append($0) }
        }
        processPending()
        self.context = nil
        core.unregister(id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing, !inputFailed else { return }
        do {
            try reader.read(unwrapInboundIn(data), allocator: context.channel.allocator) { append($0) }
        } catch let error as GearmanProtocolError {
            core.logger.info(
                "closing connection after a protocol error",
                metadata: ["gearman.connection": "\(id)", "gearman.error": "\(error)"])
            inputFailed = true
            pendingFailure = error
            return
        } catch {
            preconditionFailure("GearmanFrameDecoder throws only GearmanProtocolError")
        }
    }

    private func append(_ frame: GearmanFrame) {
        pending.append(frame)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        processPending()
        flushBatch()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identified = event as? ClientCertificateIdentified {
            core.identified(
                id, commonName: identified.commonName, grantsAdministration: identified.grantsAdministration)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        processPending()
        guard !isClosing else { return }
        if let error = error as? GearmanProtocolError {
            core.logger.info(
                "closing connection after a protocol error",
                metadata: ["gearman.connection": "\(id)", "gearman.error": "\(error)"])
            let id = self.id
            process { engine, actions in engine.protocolError(error, from: id, into: &actions) }
            flushBatch()
        } else {
            core.logger.debug(
                "connection error", metadata: ["gearman.connection": "\(id)", "gearman.error": "\(error)"])
            close()
        }
    }

    /// Decodes and applies every frame of the read batch under one acquisition of the engine's lock, in
    /// order, stopping after one that closes the connection.
    private func processPending() {
        guard !pending.isEmpty || pendingFailure != nil else { return }
        let id = self.id
        let now = ServerCore.now()
        var frames: [GearmanFrame] = []
        swap(&frames, &pending)
        let failure = pendingFailure
        pendingFailure = nil
        defer {
            frames.removeAll(keepingCapacity: true)
            swap(&frames, &pending)
        }
        process { engine, actions in
            for index in frames.indices {
                let before = actions.count
                switch frames[index] {
                case .packet(let packet):
                    do {
                        try engine.handle(packet, from: id, now: now, into: &actions)
                    } catch let error as GearmanProtocolError {
                        engine.protocolError(error, from: id, into: &actions)
                    } catch {
                        preconditionFailure("decoding a request throws only GearmanProtocolError")
                    }
                case .adminLine(let line):
                    engine.handle(GearmanAdminCommand(line: line), from: id, now: now, into: &actions)
                }
                if actions.containsClose(from: before) {
                    return
                }
            }
            if let failure {
                engine.protocolError(failure, from: id, into: &actions)
            }
        }
    }

    // MARK: Performing actions

    private func process(_ event: (JobServerEngine, inout [ServerAction]) -> Void) {
        actions.removeAll(keepingCapacity: true)
        peers.removeAll(keepingCapacity: true)
        core.process(from: id, actions: &actions, peers: &peers, event)
        guard let flusher else { return }
        var nextPeer = 0
        for index in actions.indices {
            switch actions[index] {
            case .send(let target, let message):
                if target == id {
                    enqueue(message)
                    flusher.markDirty(self)
                } else if nextPeer < peers.count, peers[nextPeer].index == index {
                    let peer = peers[nextPeer].connection
                    nextPeer += 1
                    if peer.flusher === flusher {
                        let handler = peer.handler.value
                        handler.enqueue(message)
                        flusher.markDirty(handler)
                    } else {
                        flusher.send(ServerCore.Delivery(peer: peer, message: message), via: peer.flusher)
                    }
                }
            case .close:
                isClosing = true
            case .startJobTimeout(let handle, let attempt, let milliseconds):
                let core = self.core
                eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                    core.jobTimedOut(handle, attempt: attempt)
                }
            case .scheduleEpochWakeup, .shutdown, .event:
                core.performDetached([actions[index]])
            case .store, .forget, .update:
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
        if case .storeGroupStatus = message, let writer = core.storeWriter, writer.location.isShared {
            GearmanAdminReply.storeGroup(
                (writer.lastGroupStatus?.members ?? []).map { member in
                    (
                        member.name, member.isSelf ? "self" : member.leaseMilliseconds >= 0 ? "live" : "expired",
                        member.leaseMilliseconds, member.queued
                    )
                }
            ).encode(into: &outbound)
            hasPendingWrites = true
            return
        }
        if case .storeStatus = message, let writer = core.storeWriter {
            let state = writer.state
            GearmanAdminReply.storeStatus(
                location: "\(writer.location)", unwritten: state.inFlight, transactions: state.transactions,
                failure: state.lastFailure
            ).encode(into: &outbound)
            hasPendingWrites = true
            return
        }
        if let trailer = message.encode(into: &outbound, handles: core.handleFormat, largeDataByReference: true) {
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
}
