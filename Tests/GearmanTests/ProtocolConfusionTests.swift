import GearmanProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import Gearman

/// What a broken or hostile server can do to a client or worker connection: malformed packets of every
/// response type, replies nobody asked for, a connection cut mid-packet, silence, ERROR at any point. A frame
/// that cannot be decoded never stands in for a reply: it closes the connection and fails every caller with
/// a `protocolViolation`.
@Suite struct ProtocolConfusionTests {
    let server = GearmanServerAddress(host: "127.0.0.1")
    let job = GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(string: "x"))

    func clientChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(GearmanFrameDecoder()),
            ClientChannelHandler(server: server, logger: .init(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4730)).wait()
        _ = try channel.readOutbound(as: ByteBuffer.self)
        return channel
    }

    func pending(_ channel: EmbeddedChannel, _ request: ClientRequest, timeout: TimeAmount? = nil) throws -> (
        PendingRequest, AsyncThrowingStream<GearmanJobEvent, any Error>
    ) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let caller = PendingRequest(server: server, stream: continuation)
        try channel.writeOutbound(ClientCommand.send(caller, request, timeout: timeout))
        return (caller, stream)
    }

    func packet(_ type: GearmanPacketType, _ body: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(GearmanMagic.response.rawValue, type.rawValue, UInt32(body.utf8.count))
        buffer.writeString(body)
        return buffer
    }

    func failure(of stream: AsyncThrowingStream<GearmanJobEvent, any Error>) async -> (any Error)? {
        do {
            for try await _ in stream {}
            return nil
        } catch {
            return error
        }
    }

    /// Bodies that no response type accepts: too few arguments, or numbers that are not numbers.
    static let malformed: [(GearmanPacketType, String)] = [
        (.workData, "H:1"), (.workWarning, "H:1"), (.workStatus, "H:1\01"),
        (.workComplete, "H:1"), (.workException, "H:1"), (.statusResponse, "H:1\01\0"),
        (.statusResponse, "H:1\0x\0y\0z\0w"),
        (.statusResponseUnique, "u\01\01\01"), (.statusResponseUnique, "u\0one\01\01\01\01"), (.error, "CODE"),
        (.jobAssign, "H:1\0f"), (.jobAssignUnique, "H:1\0f\0u"), (.jobAssignAll, "H:1\0f\0u\0r"),
    ]

    @Test(arguments: malformed.indices)
    func aMalformedResponseClosesAndFailsEveryCaller(index: Int) async throws {
        let (type, body) = Self.malformed[index]
        let channel = try clientChannel()
        let (running, runningEvents) = try pending(channel, .submit(job))
        try channel.writeInbound(packet(.optionResponse, "exceptions"))
        try channel.writeInbound(packet(.jobCreated, "H:1"))
        let (waiting, waitingEvents) = try pending(channel, .submit(job))
        try channel.writeInbound(packet(type, body))
        #expect(running.isSettled && waiting.isSettled)
        #expect(!channel.isActive)
        for events in [runningEvents, waitingEvents] {
            guard let error = await failure(of: events) as? GearmanError, error.code == .protocolViolation else {
                Issue.record("\(type.name) \(body.debugDescription) must fail the caller with a protocol violation")
                continue
            }
            let text = error.message
            #expect(text.contains("cannot be decoded") || text.contains("sent to a client"))
        }
    }

    @Test func anUndecodableWorkDataDoesNotAnswerAnotherSubmit() async throws {
        let channel = try clientChannel()
        let (first, _) = try pending(channel, .submit(job))
        try channel.writeInbound(packet(.optionResponse, "exceptions"))
        try channel.writeInbound(packet(.jobCreated, "H:1"))
        let (second, secondEvents) = try pending(channel, .submit(job))
        try channel.writeInbound(packet(.workData, "H:1"))
        #expect(first.isSettled && second.isSettled)
        let error = await failure(of: secondEvents)
        #expect((error as? GearmanError)?.code == .protocolViolation)
    }

    @Test func aBadMagicFromTheServerClosesWithAProtocolViolation() async throws {
        let channel = try clientChannel()
        let (caller, events) = try pending(channel, .echo(ByteBuffer(string: "x")))
        var bytes = ByteBuffer()
        bytes.writeMultipleIntegers(UInt32(0x0058_595A), UInt32(17), UInt32(0))
        try? channel.writeInbound(bytes)
        #expect(caller.isSettled && !channel.isActive)
        guard (await failure(of: events) as? GearmanError)?.code == .protocolViolation else {
            Issue.record("a bad magic must fail the caller with a protocol violation")
            return
        }
    }

    @Test func resultsForUnknownHandlesAreIgnored() async throws {
        let channel = try clientChannel()
        let (caller, events) = try pending(channel, .submit(job))
        try channel.writeInbound(packet(.optionResponse, "exceptions"))
        try channel.writeInbound(packet(.jobCreated, "H:1"))
        for type in [GearmanPacketType.workComplete, .workData, .workWarning, .workException] {
            try channel.writeInbound(packet(type, "H:unknown\0late"))
        }
        try channel.writeInbound(packet(.workStatus, "H:unknown\01\02"))
        try channel.writeInbound(packet(.workFail, "H:unknown"))
        #expect(!caller.isSettled && channel.isActive)
        try channel.writeInbound(packet(.workComplete, "H:1\0done"))
        let handle = GearmanJobHandle("H:1", server: server)
        #expect(try await collect(events) == [.created(handle), .complete(ByteBuffer(string: "done"))])
    }

    @Test func aConnectionDroppedMidPacketFailsTheCallers() async throws {
        let channel = try clientChannel()
        let (caller, events) = try pending(channel, .submit(job))
        var half = packet(.jobCreated, "H:12345")
        half.moveWriterIndex(to: 15)
        try channel.writeInbound(half)
        #expect(!caller.isSettled)
        try channel.close().wait()
        #expect(await failure(of: events) as? GearmanError == .connectionLost(server: server))
    }

    @Test func aServerThatNeverAnswersEndsInTheTimeout() async throws {
        let channel = try clientChannel()
        let (caller, events) = try pending(channel, .echo(ByteBuffer(string: "x")), timeout: .seconds(3))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(caller.isSettled)
        #expect(await failure(of: events) as? GearmanError == .timeout)
        // Its late reply pairs with nothing, and the connection carries on.
        try channel.writeInbound(packet(.optionResponse, "exceptions"))
        try channel.writeInbound(packet(.echoResponse, "x"))
        #expect(channel.isActive)
    }

    /// ERROR answers the oldest request still owed a reply, whichever it is, and only that one.
    @Test(
        arguments: [
            ClientRequest.submit(GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer())),
            .status(handle: "H:1"), .statusUnique(unique: "u"), .echo(ByteBuffer(string: "e")),
        ].indices)
    func anErrorAnswersTheRequestAtTheHead(index: Int) async throws {
        let requests: [ClientRequest] = [
            .submit(job), .status(handle: "H:1"), .statusUnique(unique: "u"), .echo(ByteBuffer(string: "e")),
        ]
        let channel = try clientChannel()
        try channel.writeInbound(packet(.optionResponse, "exceptions"))
        var callers: [(PendingRequest, AsyncThrowingStream<GearmanJobEvent, any Error>)] = []
        for request in requests[index...] {
            callers.append(try pending(channel, request))
        }
        try channel.writeInbound(packet(.error, "QUEUE_ERROR\0Job queue is full"))
        #expect(callers[0].0.isSettled)
        #expect(callers.dropFirst().allSatisfy { !$0.0.isSettled })
        #expect(
            await failure(of: callers[0].1) as? GearmanError
                == .serverError(code: "QUEUE_ERROR", message: "Job queue is full"))
        #expect(channel.isActive)
    }

    @Test func anErrorNobodyAskedForClosesTheConnection() async throws {
        let channel = try clientChannel()
        try channel.writeInbound(packet(.optionResponse, "exceptions"))
        let (caller, events) = try pending(channel, .submit(job))
        try channel.writeInbound(packet(.jobCreated, "H:1"))
        try channel.writeInbound(packet(.error, "INVALID_COMMAND\0what"))
        #expect(caller.isSettled && !channel.isActive)
        #expect(await failure(of: events) as? GearmanError == .serverError(code: "INVALID_COMMAND", message: "what"))
    }

    // MARK: Workers

    func workerChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let (_, continuation) = WorkerChannelHandler.Jobs.makeStream()
        let machine = WorkerConnectionStateMachine(functions: [.init(name: "rev")], capacity: 1, clientID: nil)
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(GearmanFrameDecoder()),
            WorkerChannelHandler(machine: machine, slots: JobSlots(1), jobs: continuation, logger: .init(label: "test"))
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4730)).wait()
        return channel
    }

    @Test(arguments: malformed.indices)
    func aMalformedPacketClosesAWorkerConnection(index: Int) throws {
        let (type, body) = Self.malformed[index]
        let channel = try workerChannel()
        try channel.writeInbound(packet(type, body))
        #expect(!channel.isActive, "\(type.name) \(body.debugDescription)")
    }

    @Test func aWorkerIgnoresNothingItCannotRead() throws {
        let channel = try workerChannel()
        try channel.writeInbound(ByteBuffer(string: "status\n"))
        #expect(!channel.isActive)
    }
}
