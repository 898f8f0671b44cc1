import GearmanProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import Gearman

/// The handlers on an `EmbeddedChannel`: bytes in, bytes out, no sockets.
@Suite struct ChannelHandlerTests {
    let server = GearmanServerAddress(host: "127.0.0.1")

    func written(_ channel: EmbeddedChannel) throws -> [GearmanRequest] {
        var requests: [GearmanRequest] = []
        var decoder = GearmanFrameDecoder()
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while let frame = try decoder.decode(buffer: &buffer) {
                guard case .packet(let packet) = frame else {
                    Issue.record("text written")
                    continue
                }
                requests.append(try GearmanRequest(packet: packet))
            }
        }
        return requests
    }

    func feed(_ channel: EmbeddedChannel, _ responses: GearmanResponse...) throws {
        var buffer = ByteBuffer()
        for response in responses { response.encode(into: &buffer) }
        try channel.writeInbound(buffer)
    }

    func clientChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(GearmanFrameDecoder()),
            ClientChannelHandler(server: server, logger: .init(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4730)).wait()
        return channel
    }

    /// In front of a handler: the first flush that passes it brings a read-complete back up the pipeline at
    /// once, as a socket does when its flush fails and the channel closes.
    final class ReadCompleteOnFlush: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = ByteBuffer
        private var fired = false

        func flush(context: ChannelHandlerContext) {
            context.flush()
            guard !fired else { return }
            fired = true
            context.fireChannelReadComplete()
        }
    }

    @Test func aFlushThatCallsBackIntoTheClientHandlerIsSafe() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ReadCompleteOnFlush(), ByteToMessageHandler(GearmanFrameDecoder()),
            ClientChannelHandler(server: server, logger: .init(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4730)).wait()
        let (_, events) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let job = GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(string: "x"))
        try channel.writeOutbound(
            ClientCommand.send(PendingRequest(server: server, stream: events), .submit(job), timeout: nil))
        #expect(try written(channel) == [.option(ByteBuffer(string: "exceptions")), .submitJob(job)])
    }

    @Test func clientPipelinesAndStreamsEvents() async throws {
        let channel = try clientChannel()
        #expect(try written(channel) == [.option(ByteBuffer(string: "exceptions"))])

        let (first, firstEvents) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let (second, secondEvents) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let one = PendingRequest(server: server, stream: firstEvents)
        let two = PendingRequest(server: server, stream: secondEvents)
        let job = GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(string: "x"))
        try channel.writeOutbound(ClientCommand.send(one, .submit(job), timeout: nil))
        try channel.writeOutbound(ClientCommand.send(two, .submit(job), timeout: nil))
        #expect(try written(channel) == [.submitJob(job), .submitJob(job)])

        try feed(
            channel, .option(ByteBuffer(string: "exceptions")), .jobCreated(handle: ByteBuffer(string: "H:a")),
            .jobCreated(handle: ByteBuffer(string: "H:b")),
            .workData(handle: ByteBuffer(string: "H:b"), data: ByteBuffer(string: "part")),
            .workException(handle: ByteBuffer(string: "H:a"), data: ByteBuffer(string: "boom")),
            .workComplete(handle: ByteBuffer(string: "H:b"), data: ByteBuffer(string: "done")))
        #expect(one.isSettled && two.isSettled)

        var events: [GearmanJobEvent] = []
        let handleA = GearmanJobHandle("H:a", server: server)
        let handleB = GearmanJobHandle("H:b", server: server)
        let collected = try await collect(second)
        #expect(
            collected == [.created(handleB), .data(ByteBuffer(string: "part")), .complete(ByteBuffer(string: "done"))])
        do {
            for try await event in first { events.append(event) }
            Issue.record("the first job must end with an exception")
        } catch let error as GearmanError {
            #expect(error == .workException(handle: "H:a", message: "boom"))
        }
        #expect(events == [.created(handleA)])
    }

    @Test func clientFailsWaitersWhenTheConnectionCloses() async throws {
        let channel = try clientChannel()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let request = PendingRequest(server: server, stream: continuation)
        let job = GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer())
        try channel.writeOutbound(ClientCommand.send(request, .submit(job), timeout: nil))
        try channel.close().wait()
        #expect(request.isSettled)
        await #expect(throws: GearmanError.connectionLost(server: server)) { _ = try await collect(stream) }
    }

    @Test func clientCancellationForgetsTheCaller() async throws {
        let channel = try clientChannel()
        let handler = try channel.pipeline.syncOperations.handler(type: ClientChannelHandler.self)
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let request = PendingRequest(server: server, stream: continuation)
        let job = GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer())
        try channel.writeOutbound(ClientCommand.send(request, .submit(job), timeout: .seconds(30)))
        #expect(handler.waiting == 1)
        #expect(request.cancel())
        try channel.writeOutbound(ClientCommand.cancel(request))
        #expect(handler.waiting == 0)
        await #expect(throws: CancellationError.self) { _ = try await collect(stream) }
        try feed(channel, .option(ByteBuffer(string: "exceptions")), .jobCreated(handle: ByteBuffer(string: "H:1")))
        #expect(handler.waiting == 0 && channel.isActive)

        // A caller cancelled before its request reached the handler is never sent.
        let early = PendingRequest(
            server: server, stream: AsyncThrowingStream.makeStream(of: GearmanJobEvent.self).continuation)
        _ = try written(channel)
        #expect(early.cancel())
        try channel.writeOutbound(ClientCommand.send(early, .submit(job), timeout: nil))
        #expect(try written(channel) == [])
        #expect(handler.waiting == 0)
    }

    @Test func clientTimesOutOnTheEventLoopClock() async throws {
        let channel = try clientChannel()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let request = PendingRequest(server: server, stream: continuation)
        let job = GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer())
        try channel.writeOutbound(ClientCommand.send(request, .submit(job), timeout: .seconds(5)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(!request.isSettled)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(request.isSettled)
        await #expect(throws: GearmanError.timeout) { _ = try await collect(stream) }
        // The job's late answer is dropped without harm.
        try feed(channel, .option(ByteBuffer(string: "exceptions")), .jobCreated(handle: ByteBuffer(string: "H:late")))
        #expect(channel.isActive)
    }

    func workerChannel(
        slots: JobSlots, capacity: Int = 2, clientID: String? = "w1", loop: EmbeddedEventLoop = EmbeddedEventLoop()
    ) throws -> (EmbeddedChannel, WorkerChannelHandler.Jobs) {
        let channel = EmbeddedChannel(loop: loop)
        let (jobs, continuation) = WorkerChannelHandler.Jobs.makeStream()
        let machine = WorkerConnectionStateMachine(
            functions: [.init(name: "rev")], capacity: capacity, clientID: clientID)
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(GearmanFrameDecoder()),
            WorkerChannelHandler(machine: machine, slots: slots, jobs: continuation, logger: .init(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4730)).wait()
        return (channel, jobs)
    }

    @Test func workersShareTheirSlotsAcrossConnections() throws {
        let slots = JobSlots(1)
        let loop = EmbeddedEventLoop()
        let (first, _) = try workerChannel(slots: slots, capacity: 1, clientID: nil, loop: loop)
        let (second, _) = try workerChannel(slots: slots, capacity: 1, clientID: nil, loop: loop)
        #expect(try written(first) == [.canDo(function: ByteBuffer(string: "rev")), .grabJob(.unique)])
        #expect(try written(second) == [.canDo(function: ByteBuffer(string: "rev"))])
        try feed(first, .noJob)
        loop.run()
        #expect(try written(first) == [.preSleep])
        #expect(try written(second) == [.grabJob(.unique)])
        #expect(slots.free == 0)
        try second.close().wait()
        #expect(slots.free == 1)
    }

    @Test func workerRegistersGrabsRunsAndReports() async throws {
        let slots = JobSlots(2)
        let (channel, jobs) = try workerChannel(slots: slots)
        #expect(
            try written(channel) == [
                .setClientID(ByteBuffer(string: "w1")), .canDo(function: ByteBuffer(string: "rev")),
                .grabJob(.unique), .grabJob(.unique),
            ])
        try feed(
            channel,
            .jobAssignUnique(
                handle: ByteBuffer(string: "H:1"), function: ByteBuffer(string: "rev"), unique: ByteBuffer(),
                workload: ByteBuffer(string: "abc")), .noJob)
        #expect(try written(channel) == [.preSleep])

        try channel.writeOutbound(WorkerCommand.data(handle: ByteBuffer(string: "H:1"), ByteBuffer(string: "c")))
        try channel.writeOutbound(
            WorkerCommand.finish(handle: ByteBuffer(string: "H:1"), .complete(ByteBuffer(string: "cba"))))
        #expect(
            try written(channel) == [
                .workData(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "c")),
                .workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "cba")),
            ])
        slots.release(1)  // what the worker does when the job's function returns
        try feed(channel, .noop)
        #expect(try written(channel) == [.grabJob(.unique), .grabJob(.unique)])
        try channel.writeOutbound(WorkerCommand.drain)
        try feed(channel, .noJob, .noJob)
        #expect(!channel.isActive)

        let assigned = try await collect(jobs)
        #expect(assigned.map(\.handle) == [ByteBuffer(string: "H:1")])
        #expect(assigned.first?.workload == ByteBuffer(string: "abc"))
    }
}

/// Reads a stream that has already finished.
func collect<S: AsyncSequence>(_ sequence: S) async throws -> [S.Element] {
    var elements: [S.Element] = []
    for try await element in sequence { elements.append(element) }
    return elements
}
