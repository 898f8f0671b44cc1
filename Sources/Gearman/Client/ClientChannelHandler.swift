import GearmanProtocol
import Logging
import NIOCore

/// Runs a `ClientConnectionStateMachine` on a channel: requests come down the pipeline as `ClientCommand`
/// writes, packets come up from `GearmanFrameDecoder`, and callers are resumed on the event loop.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = GearmanFrame
    typealias OutboundIn = ClientCommand
    typealias OutboundOut = ByteBuffer
    typealias Machine = ClientConnectionStateMachine<PendingRequest>

    private var machine: Machine
    private let outbound = OutboundRequests(capacity: 1024)
    private let server: GearmanServerAddress
    private let logger: Logger

    /// How many callers wait on this connection.
    var waiting: Int { machine.inFlight }

    init(server: GearmanServerAddress, logger: Logger) {
        self.server = server
        self.logger = logger
        self.machine = Machine(server: server)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            perform(machine.channelActive(), context: context)
            flushBuffered(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(machine.channelActive(), context: context)
        flushBuffered(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .packet(let packet):
            let action: Machine.Action
            do {
                action = machine.receive(try GearmanResponse(packet: packet))
            } catch {
                action = machine.undecodable(error)
            }
            perform(action, context: context)
        case .adminLine:
            perform(
                machine.undecodable(GearmanError.protocolViolation("text line on a binary connection")),
                context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushBuffered(context: context)
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .send(let request, let payload, let timeout):
            promise?.succeed()
            guard !request.isSettled else { return }
            if let timeout {
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
                request.setTimer(
                    context.eventLoop.scheduleTask(in: timeout) {
                        handler.value.perform(
                            handler.value.machine.cancel(request, with: .timeout), context: contextBox.value)
                    })
            }
            perform(machine.send(request, payload), context: context)
        case .cancel(let request):
            promise?.succeed()
            perform(machine.cancel(request, with: .timeout), context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        flushBuffered(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let (callers, error) = machine.channelInactive()
        fail(callers, error)
        context.fireChannelInactive()
    }

    /// A frame the decoder refused (bad magic, oversized length) ends the connection like an undecodable one.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["gearman.server": "\(server)", "gearman.error": "\(error)"])
        if error is GearmanProtocolError {
            perform(machine.undecodable(error), context: context)
        } else {
            context.close(promise: nil)
        }
    }

    private func perform(_ action: Machine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .write(let request):
            outbound.append(request, context: context)
        case .created(let caller, let handle):
            caller.deliver(.created(GearmanJobHandle(handle, server: server)))
        case .succeed(let caller, let reply):
            caller.settle(.success(reply))
        case .fail(let caller, let error):
            caller.settle(.failure(error))
        case .event(let waiters, let event):
            waiters.forEach { $0.deliver(event) }
        case .finish(let waiters, let result):
            let reply = result.map { ClientReply.result($0) }.mapError { $0 as any Error }
            waiters.forEach { $0.settle(reply) }
        case .close(let callers, let error):
            logger.warning(
                "closing connection", metadata: ["gearman.server": "\(server)", "gearman.error": "\(error)"])
            fail(callers, error)
            context.close(promise: nil)
        }
    }

    private func fail(_ callers: [PendingRequest], _ error: GearmanError) {
        for caller in callers {
            caller.settle(.failure(error))
        }
    }

    private func flushBuffered(context: ChannelHandlerContext) {
        outbound.flush(context: context)
    }
}
