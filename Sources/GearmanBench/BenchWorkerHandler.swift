import Atomics
import GearmanProtocol
import NIOCore

/// An echo worker: answers each job with its own workload. It keeps up to `grabs` GRAB_JOB_UNIQs outstanding so
/// that it holds several jobs at once under load: each job it gets is answered with two new grabs (up to the
/// limit), each NO_JOB with none. When every grab has come back NO_JOB it sends PRE_SLEEP, and a NOOP wakes it
/// with one grab, so that an idle worker costs one round trip per job rather than `grabs`.
/// Touched on its channel's event loop only: the runner reaches it through an `NIOLoopBound`.
final class BenchWorkerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let function: ByteBuffer
    private let grabs: Int
    /// Jobs finished by every worker, for draining and the progress line.
    private let completed: ManagedAtomic<Int>
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var reader = GearmanFrameReader()
    @exclusivity(unchecked) private var outbound = ByteBuffer()
    @exclusivity(unchecked) private var outstandingGrabs = 0
    @exclusivity(unchecked) private var isSleeping = false
    @exclusivity(unchecked) private var unpublished = 0
    /// Set when a result was written by reference since the last flush.
    @exclusivity(unchecked) private var hasDirectWrites = false
    private(set) var errors = 0

    init(function: String, grabs: Int, completed: ManagedAtomic<Int>) {
        self.function = ByteBuffer(string: function)
        self.grabs = grabs
        self.completed = completed
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 4096)
        outbound.writeGearmanPacket(.request, .canDo) { $0.writeImmutableBuffer(function) }
        grab(grabs)
        flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try reader.read(unwrapInboundIn(data), allocator: context.channel.allocator) { frame in
                receive(try frame.responsePacket)
            }
        } catch {
            errors += 1
            context.close(promise: nil)
        }
    }

    private func receive(_ packet: GearmanPacket) {
        guard packet.magic == .response else {
            errors += 1
            return
        }
        switch packet.type {
        case .jobAssignUnique, .jobAssign, .jobAssignAll:
            outstandingGrabs -= 1
            // The handle, then the function and the unique key or the reducer, then the workload.
            let leading = packet.type == .jobAssign ? 2 : packet.type == .jobAssignUnique ? 3 : 4
            var arguments = GearmanArgumentReader(packet.body, type: packet.type, expected: leading + 1)
            guard let handle = try? arguments.next(), (1..<leading).allSatisfy({ _ in (try? arguments.next()) != nil })
            else {
                errors += 1
                return
            }
            let body = arguments.rest()
            if let trailer = GearmanPacketWriter.write(
                .request, .workComplete, handle, last: body, lastByReference: context != nil, into: &outbound),
                let context
            {
                context.write(wrapOutboundOut(outbound), promise: nil)
                outbound = context.channel.allocator.buffer(capacity: 4096)
                context.write(wrapOutboundOut(trailer), promise: nil)
                hasDirectWrites = true
            }
            unpublished += 1
            // Slow start: while jobs keep coming, hold more of them, up to `grabs`.
            grab(min(2, grabs - outstandingGrabs))
        case .noJob:
            outstandingGrabs -= 1
            if outstandingGrabs == 0 {
                outbound.writeGearmanPacket(.request, .preSleep)
                isSleeping = true
            }
        case .noop:
            if isSleeping {
                isSleeping = false
                grab(1)
            }
        default:
            errors += 1
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        if unpublished > 0 {
            completed.wrappingIncrement(by: unpublished, ordering: .relaxed)
            unpublished = 0
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors += 1
        context.close(promise: nil)
    }

    private func grab(_ count: Int) {
        for _ in 0..<max(0, count) {
            outbound.writeGearmanPacket(.request, .grabJobUnique)
        }
        outstandingGrabs += max(0, count)
    }

    private func flush() {
        guard let context, outbound.readableBytes > 0 || hasDirectWrites else { return }
        if outbound.readableBytes > 0 {
            context.write(wrapOutboundOut(outbound), promise: nil)
            outbound.clear()
        }
        hasDirectWrites = false
        context.flush()
    }
}
