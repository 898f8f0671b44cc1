import Atomics
import GearmanProtocol
import NIOCore

/// A client connection that keeps `inFlight` jobs outstanding, pipelined.
///
/// Gearman has no request ids: JOB_CREATED answers the submits of one connection in order, so a FIFO of
/// submit times pairs them; a foreground job is then found by its handle when WORK_COMPLETE arrives.
/// Submits are encoded into one buffer during a read batch and flushed once at its end.
/// Touched on its channel's event loop only: the runner reaches it through an `NIOLoopBound`.
final class BenchClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let function: ByteBuffer
    private let empty = ByteBuffer()
    private let payloads: ByteBuffer
    private let payloadSize: PayloadSize
    private let inFlight: Int
    /// Jobs completed by every connection, for the progress line.
    private let progress: ManagedAtomic<Int>
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var reader = GearmanFrameReader()
    @exclusivity(unchecked) private var outbound = ByteBuffer()
    @exclusivity(unchecked) private var random: UInt64
    /// Set when a payload was written by reference since the last flush.
    @exclusivity(unchecked) private var hasDirectWrites = false

    @exclusivity(unchecked) private var phase: BenchPhase?
    @exclusivity(unchecked) private var promise: EventLoopPromise<ConnectionTally>?
    @exclusivity(unchecked) private var tally = ConnectionTally()
    @exclusivity(unchecked) private var unpublished = 0
    @exclusivity(unchecked) private var outstanding = 0
    /// Submit times of jobs not yet acknowledged by JOB_CREATED (or an ERROR), oldest first.
    @exclusivity(unchecked) private var awaitingCreation = RingBuffer()
    /// Foreground jobs created and not yet finished, by handle.
    @exclusivity(unchecked) private var running: [ByteBuffer: (submitted: UInt64, size: Int)] = [:]
    /// Payload sizes of the jobs in `awaitingCreation`, to check that each result echoes its whole workload.
    @exclusivity(unchecked) private var awaitingSizes = RingBuffer()
    /// With a rate: when the phase started, and the timer that submits when no answer arrives to do it.
    @exclusivity(unchecked) private var phaseStart = NIODeadline.now()
    @exclusivity(unchecked) private var pacer: RepeatedTask?

    init(function: String, payload: PayloadSize, inFlight: Int, seed: UInt64, progress: ManagedAtomic<Int>) {
        self.function = ByteBuffer(string: function)
        payloadSize = payload
        var bytes = ByteBuffer()
        bytes.writeRepeatingByte(UInt8(ascii: "x"), count: payload.maximum)
        payloads = bytes
        self.inFlight = inFlight
        random = seed | 1
        self.progress = progress
        running.reserveCapacity(inFlight * 2)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 4096)
        context.fireChannelActive()
    }

    /// Runs a phase; on the channel's event loop.
    func start(_ phase: BenchPhase, promise: EventLoopPromise<ConnectionTally>) {
        self.phase = phase
        self.promise = promise
        tally = ConnectionTally()
        phaseStart = NIODeadline.now()
        if phase.rate != nil, let context {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            pacer = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(1)) {
                _ in
                let handler = bound.value
                handler.topUp(now: NIODeadline.now())
                handler.flush()
                handler.finishIfDone()
            }
        }
        topUp(now: NIODeadline.now())
        flush()
        finishIfDone()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        do {
            try reader.read(unwrapInboundIn(data), allocator: context.channel.allocator) { frame in
                receive(try frame.responsePacket, now: now)
            }
        } catch {
            fail("unexpected bytes from the server")
            return
        }
        topUp(now: now)
    }

    private func receive(_ packet: GearmanPacket, now: NIODeadline) {
        guard packet.magic == .response else {
            tally.errors += 1
            return
        }
        switch packet.type {
        case .jobCreated:
            guard let submitted = awaitingCreation.popFirst(), let size = awaitingSizes.popFirst() else {
                fail("JOB_CREATED with no submit outstanding")
                return
            }
            if phase?.background ?? false {
                complete(submittedAt: submitted, now: now)
            } else {
                running[packet.body] = (submitted, Int(size))
            }
        case .workComplete:
            var arguments = GearmanArgumentReader(packet.body, type: packet.type, expected: 2)
            guard let handle = try? arguments.next(), let job = running.removeValue(forKey: handle) else {
                tally.errors += 1
                return
            }
            if arguments.rest().readableBytes != job.size {
                tally.errors += 1  // the echo lost or gained bytes
            }
            complete(submittedAt: job.submitted, now: now)
        case .workFail, .workException:
            var arguments = GearmanArgumentReader(packet.body, type: packet.type, expected: 2)
            let handle = packet.type == .workFail ? arguments.rest() : (try? arguments.next()) ?? packet.body
            if running.removeValue(forKey: handle) != nil {
                outstanding -= 1
            }
            tally.errors += 1
        case .workData, .workWarning, .workStatus:
            break
        case .error:
            // Answers a submit that was refused (a full queue, for one).
            tally.errors += 1
            _ = awaitingSizes.popFirst()
            if awaitingCreation.popFirst() != nil {
                outstanding -= 1
            }
        default:
            tally.errors += 1
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        publish()
        finishIfDone()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        pacer?.cancel()
        pacer = nil
        if let promise {
            tally.errors += outstanding
            outstanding = 0
            self.promise = nil
            promise.succeed(tally)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        tally.errors += 1
        context.close(promise: nil)
    }

    private func complete(submittedAt: UInt64, now: NIODeadline) {
        outstanding -= 1
        tally.completed += 1
        unpublished += 1
        tally.latency.record(nanoseconds: now.uptimeNanoseconds &- submittedAt)
    }

    private func topUp(now: NIODeadline) {
        guard let phase, context != nil else { return }
        if let deadline = phase.deadline, now >= deadline { return }
        let type: GearmanPacketType = phase.background ? .submitJobBackground : .submitJob
        var allowed = Int.max
        if let rate = phase.rate {
            allowed = Int(Double((now - phaseStart).nanoseconds) * rate / 1e9) + 1 - tally.submitted
        }
        while outstanding < inFlight, allowed > 0 {
            allowed -= 1
            if let quota = phase.quota, tally.submitted >= quota { return }
            let size = payloadSize.size(random: nextRandom())
            let payload = payloads.getSlice(at: payloads.readerIndex, length: size)!
            // No unique key: every job is its own. An image-sized payload goes out by reference, in the same
            // vector write.
            if let trailer = GearmanPacketWriter.write(
                .request, type, function, empty, last: payload, lastByReference: context != nil, into: &outbound),
                let context
            {
                context.write(wrapOutboundOut(outbound), promise: nil)
                outbound = context.channel.allocator.buffer(capacity: 4096)
                context.write(wrapOutboundOut(trailer), promise: nil)
                hasDirectWrites = true
            }
            awaitingCreation.append(now.uptimeNanoseconds)
            awaitingSizes.append(UInt64(size))
            outstanding += 1
            tally.submitted += 1
        }
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

    private func publish() {
        if unpublished > 0 {
            progress.wrappingIncrement(by: unpublished, ordering: .relaxed)
            unpublished = 0
        }
    }

    private func finishIfDone() {
        guard let phase, let promise, outstanding == 0 else { return }
        let quotaDone = phase.quota.map { tally.submitted >= $0 } ?? false
        let timeDone = phase.deadline.map { NIODeadline.now() >= $0 } ?? false
        guard quotaDone || timeDone || context == nil else { return }
        publish()
        pacer?.cancel()
        pacer = nil
        self.phase = nil
        self.promise = nil
        promise.succeed(tally)
    }

    private func fail(_ reason: String) {
        tally.errors += 1
        context?.close(promise: nil)
    }

    private func nextRandom() -> UInt64 {
        guard !payloadSize.isFixed else { return 0 }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return random
    }

    /// The bytes up to the first NUL, consumed with it; nil when there is none.
}

/// A FIFO of timestamps that reuses its storage.
struct RingBuffer {
    private var storage: [UInt64] = Array(repeating: 0, count: 16)
    private var head = 0
    private(set) var count = 0

    mutating func append(_ value: UInt64) {
        if count == storage.count {
            var grown = [UInt64](repeating: 0, count: storage.count * 2)
            for index in 0..<count {
                grown[index] = storage[(head + index) & (storage.count - 1)]
            }
            storage = grown
            head = 0
        }
        storage[(head + count) & (storage.count - 1)] = value
        count += 1
    }

    mutating func popFirst() -> UInt64? {
        guard count > 0 else { return nil }
        let value = storage[head]
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return value
    }
}
