import GearmanProtocol
import Logging
import NIOCore

/// Runs a `WorkerConnectionStateMachine` on a channel. Assigned jobs go out through `jobs`, which ends when
/// the connection closes; results and progress come back down the pipeline as `WorkerCommand` writes.
final class WorkerChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = GearmanFrame
    typealias OutboundIn = WorkerCommand
    typealias OutboundOut = ByteBuffer
    typealias Jobs = AsyncStream<WorkerConnectionStateMachine.AssignedJob>

    private var machine: WorkerConnectionStateMachine
    private let jobs: Jobs.Continuation
    private var outBuffer: ByteBuffer
    /// A large result was written by reference since the last flush.
    private var hasPendingWrites = false
    private let logger: Logger
    private var isActive = false
    private let slots: JobSlots
    private var context: ChannelHandlerContext?

    init(machine: WorkerConnectionStateMachine, slots: JobSlots, jobs: Jobs.Continuation, logger: Logger) {
        self.machine = machine
        self.slots = slots
        self.jobs = jobs
        self.logger = logger
        self.outBuffer = ByteBufferAllocator().buffer(capacity: 256)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            activate(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context: context)
        context.fireChannelActive()
    }

    private func activate(context: ChannelHandlerContext) {
        guard !isActive else { return }
        isActive = true
        for packet in machine.registration {
            packet.encode(into: &outBuffer)
        }
        perform(machine.channelActive(), context: context)
        flushBuffered(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: WorkerConnectionStateMachine.Action
        switch unwrapInboundIn(data) {
        case .packet(let packet):
            do {
                action = machine.receive(try GearmanResponse(packet: packet))
            } catch {
                action = machine.undecodable(error)
            }
        case .adminLine:
            action = machine.undecodable(GearmanError.protocolViolation("text line on a binary connection"))
        }
        perform(action, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushBuffered(context: context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .data(let handle, let data):
            append(.workData(handle: handle, data: data), context: context)
        case .warning(let handle, let data):
            append(.workWarning(handle: handle, data: data), context: context)
        case .status(let handle, let numerator, let denominator):
            GearmanRequest.workStatus(
                handle: handle, numerator: ByteBuffer(string: String(numerator)),
                denominator: ByteBuffer(string: String(denominator))
            ).encode(into: &outBuffer)
        case .finish(let handle, let outcome):
            perform(machine.finished(handle: handle, outcome), context: context)
        case .drain:
            perform(machine.drain(), context: context)
        }
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {
        flushBuffered(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        slots.release(machine.channelInactive())
        jobs.finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        slots.release(machine.channelInactive())
        self.context = nil
        jobs.finish()
    }

    /// A frame the decoder refused (bad magic, oversized length) ends the connection like an undecodable one.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("worker connection error", metadata: ["gearman.error": "\(error)"])
        if error is GearmanProtocolError {
            perform(machine.undecodable(error), context: context)
        } else {
            context.close(promise: nil)
        }
    }

    private func perform(_ action: WorkerConnectionStateMachine.Action, context: ChannelHandlerContext) {
        if let violation = action.violation {
            logger.warning("closing worker connection", metadata: ["gearman.error": "\(violation)"])
            context.close(promise: nil)
            return
        }
        if let reply = action.reply {
            append(reply, context: context)
        }
        slots.release(action.releaseSlots)
        if action.wantSlots > 0 {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let granted = slots.acquire(upTo: action.wantSlots) {
                handler.eventLoop.execute { handler.value.slotsAvailable() }
            }
            perform(machine.slotsGranted(granted), context: context)
        }
        for _ in 0..<action.grabs {
            GearmanRequest.grabJob(.unique).encode(into: &outBuffer)
        }
        if action.preSleep {
            GearmanRequest.preSleep.encode(into: &outBuffer)
        }
        if let job = action.start {
            jobs.yield(job)
        }
        if action.close {
            let channel = context.channel
            if outBuffer.readableBytes > 0 || hasPendingWrites {
                hasPendingWrites = false
                context.writeAndFlush(wrapOutboundOut(outBuffer)).whenComplete { _ in channel.close(promise: nil) }
                outBuffer.clear()
            } else {
                context.close(promise: nil)
            }
        }
    }

    private func slotsAvailable() {
        guard let context else { return }
        perform(machine.slotsAvailable(), context: context)
        flushBuffered(context: context)
    }

    /// Encodes `request` after what is buffered; an image-sized result goes out by reference, after what was
    /// encoded so far, in the same vector write: it is never copied into this connection's buffer.
    private func append(_ request: GearmanRequest, context: ChannelHandlerContext) {
        guard let data = request.encode(into: &outBuffer, largeDataByReference: true) else { return }
        context.write(wrapOutboundOut(outBuffer), promise: nil)
        outBuffer = context.channel.allocator.buffer(capacity: 256)
        context.write(wrapOutboundOut(data), promise: nil)
        hasPendingWrites = true
    }

    private func flushBuffered(context: ChannelHandlerContext) {
        guard outBuffer.readableBytes > 0 || hasPendingWrites else { return }
        hasPendingWrites = false
        if outBuffer.readableBytes > 0 {
            context.write(wrapOutboundOut(outBuffer), promise: nil)
            outBuffer.clear()
        }
        context.flush()
    }
}
