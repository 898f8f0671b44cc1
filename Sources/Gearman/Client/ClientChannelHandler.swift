import GearmanProtocol
import Logging
import NIOCore

/// Runs a `ClientConnectionStateMachine` on a channel: requests come down the pipeline as `ClientCommand`
/// writes, packets come up from `GearmanFrameDecoder`, and callers are resumed on the event loop.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = GearmanFrame
    typealias OutboundIn = ClientCommand
    typealias OutboundOut = ByteBuffer

    private var machine: ClientConnectionStateMachine
    private var requests: [UInt64: PendingRequest] = [:]
    private var nextID: UInt64 = 0
    private var outBuffer: ByteBuffer
    private let server: GearmanServerAddress
    private let logger: Logger

    /// How many callers wait on this connection.
    var waiting: Int { requests.count }

    init(server: GearmanServerAddress, logger: Logger) {
        self.server = server
        self.logger = logger
        self.machine = ClientConnectionStateMachine(server: server)
        self.outBuffer = ByteBufferAllocator().buffer(capacity: 1024)
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
            do {
                perform(machine.receive(try GearmanResponse(packet: packet)), context: context)
            } catch {
                perform(machine.receive(.error(code: "INVALID_PACKET", message: "\(error)")), context: context)
            }
        case .adminLine:
            failAll(.protocolViolation("text line on a binary connection"))
            context.close(promise: nil)
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
            nextID &+= 1
            request.id = nextID
            requests[nextID] = request
            if let timeout {
                request.timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                    [id = nextID] in
                    self.timeOut(id, context: context)
                }
            }
            perform(machine.send(nextID, payload), context: context)
        case .cancel(let request):
            promise?.succeed()
            guard let known = requests[request.id], known === request else { return }
            perform(machine.cancel(request.id, with: .timeout), context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        flushBuffered(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        _ = machine.channelInactive()
        failAll(.connectionLost(server: server))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["server": "\(server)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func timeOut(_ id: UInt64, context: ChannelHandlerContext) {
        guard requests[id] != nil else { return }
        perform(machine.cancel(id, with: .timeout), context: context)
    }

    private func perform(_ action: ClientConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .write(let request):
            request.encode(into: &outBuffer)
        case .created(let id, let handle):
            requests[id]?.deliver(.created(GearmanJobHandle(handle: handle, server: server)))
        case .succeed(let id, let reply):
            settle(id, .success(reply))
        case .fail(let id, let error):
            settle(id, .failure(error))
        case .event(let waiters, let event):
            waiters.forEach { requests[$0]?.deliver(event) }
        case .finish(let waiters, let result):
            let reply = result.map { ClientConnectionStateMachine.Reply.result($0) }.mapError { $0 as any Error }
            waiters.forEach { settle($0, reply) }
        case .close(let error):
            logger.warning("closing connection", metadata: ["server": "\(server)", "error": "\(error)"])
            _ = machine.channelInactive()
            failAll(error)
            context.close(promise: nil)
        }
    }

    private func settle(_ id: UInt64, _ result: Result<ClientConnectionStateMachine.Reply, any Error>) {
        guard let request = requests.removeValue(forKey: id) else { return }
        request.timer?.cancel()
        request.timer = nil
        request.settle(result)
    }

    private func failAll(_ error: GearmanError) {
        let pending = requests
        requests.removeAll()
        for request in pending.values {
            request.timer?.cancel()
            request.settle(.failure(error))
        }
    }

    private func flushBuffered(context: ChannelHandlerContext) {
        guard outBuffer.readableBytes > 0 else { return }
        context.write(wrapOutboundOut(outBuffer), promise: nil)
        outBuffer.clear()
        context.flush()
    }
}
