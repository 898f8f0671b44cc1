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
    private let outbound = OutboundRequests(capacity: 256)
    private let logger: Logger
    private var isActive = false
    private let slots: JobSlots
    private var context: ChannelHandlerContext?

    init(machine: WorkerConnectionStateMachine, slots: JobSlots, jobs: Jobs.Continuation, logger: Logger) {
        self.machine = machine
        self.slots = slots
        self.jobs = jobs
        self.logger = logger
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
            outbound.append(packet, context: context)
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
            outbound.append(.workData(handle: handle, data: data), context: context)
        case .warning(let handle, let data):
            outbound.append(.workWarning(handle: handle, data: data), context: context)
        case .status(let handle, let numerator, let denominator):
            outbound.append(
                .workStatus(
                    handle: handle, numerator: ByteBuffer(string: String(numerator)),
                    denominator: ByteBuffer(string: String(denominator))),
                context: context)
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
            outbound.append(reply, context: context)
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
            outbound.append(.grabJob(.unique), context: context)
        }
        if action.preSleep {
            outbound.append(.preSleep, context: context)
        }
        if let job = action.start {
            jobs.yield(job)
        }
        if action.close {
            let channel = context.channel
            if !outbound.isEmpty {
                outbound.flushed(context: context).whenComplete { _ in channel.close(promise: nil) }
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

    private func flushBuffered(context: ChannelHandlerContext) {
        outbound.flush(context: context)
    }
}
