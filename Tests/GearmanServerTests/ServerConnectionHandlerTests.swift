import GearmanProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import GearmanServer

/// A real `ServerCore` and engine whose connections are `EmbeddedChannel`s: bytes in, bytes out, no sockets.
/// What a read writes is flushed when the test runs the loop of the connection, as at the end of a turn of an
/// event loop.
final class EmbeddedServer {
    let loop = EmbeddedEventLoop()
    let core: ServerCore

    init(shutdownRequested: @escaping @Sendable (Bool) -> Void = { _ in }) {
        var logger = Logger(label: "test.server")
        logger.logLevel = .critical
        core = ServerCore(
            engine: JobServerEngine(configuration: .init(handlePrefix: "test")), timerLoop: loop, logger: logger,
            shutdownRequested: shutdownRequested)
    }

    /// A connection from a loopback address, on `loop` or this server's own, behind `front` (handlers nearer
    /// the socket, as TLS would be).
    func connect(on loop: EmbeddedEventLoop? = nil, front: [any ChannelHandler] = []) throws -> EmbeddedChannel {
        let loop = loop ?? self.loop
        let channel = EmbeddedChannel(loop: loop)
        let handlers = channel.pipeline.syncOperations
        for handler in front {
            try handlers.addHandler(handler)
        }
        try handlers.addHandler(
            ServerConnectionHandler(
                core: core, eventLoop: loop, maximumPacketSize: GearmanFrameDecoder.defaultMaximumPacketSize,
                adminAccess: .loopback))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return channel
    }
}

extension EmbeddedChannel {
    /// Writes `requests` as one read.
    func send(_ requests: GearmanRequest...) throws {
        var buffer = ByteBuffer()
        for request in requests { request.encode(into: &buffer) }
        try writeInbound(buffer)
    }

    /// Every byte flushed to this connection and not yet taken.
    func flushedBytes() throws -> ByteBuffer {
        var all = ByteBuffer()
        while var buffer = try readOutbound(as: ByteBuffer.self) {
            all.writeBuffer(&buffer)
        }
        return all
    }

    /// Everything flushed to this connection and not yet taken, decoded as a client or worker reads it.
    func responses(sourceLocation: SourceLocation = #_sourceLocation) throws -> [GearmanResponse] {
        var buffer = try flushedBytes()
        var decoder = GearmanFrameDecoder()
        var responses: [GearmanResponse] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            guard case .packet(let packet) = frame else {
                Issue.record("text among the packets", sourceLocation: sourceLocation)
                continue
            }
            responses.append(try GearmanResponse(packet: packet))
        }
        #expect(buffer.readableBytes == 0, "a partial packet was flushed", sourceLocation: sourceLocation)
        return responses
    }
}

func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// The handle of the JOB_CREATED in `responses`.
func createdHandle(_ responses: [GearmanResponse], sourceLocation: SourceLocation = #_sourceLocation) throws
    -> ByteBuffer
{
    let handles = responses.compactMap { response -> ByteBuffer? in
        guard case .jobCreated(let handle) = response else { return nil }
        return handle
    }
    return try #require(handles.first, "no JOB_CREATED in \(responses)", sourceLocation: sourceLocation)
}

/// `ServerConnectionHandler` between bytes and the engine: framing, read batches, admin text, protocol errors
/// and connections that end.
@Suite struct ServerConnectionHandlerTests {
    let resize = GearmanSubmitJob(function: bytes("resize"), workload: bytes("photo"))

    @Test func aSubmittedJobIsAnsweredWithJobCreated() throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        try client.send(.submitJob(resize))
        server.loop.run()
        let answers = try client.responses()
        #expect(answers.count == 1)
        #expect(String(buffer: try createdHandle(answers)).hasPrefix("H:test:"))
        #expect(server.core.inspect { $0.jobCount } == 1)
    }

    @Test func aWorkerIsWokenGivenTheJobAndItsResultReachesTheClient() throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        let worker = try server.connect()
        try worker.send(.canDo(function: bytes("resize")), .preSleep)
        server.loop.run()
        #expect(try worker.responses() == [])

        try client.send(.submitJob(resize))
        server.loop.run()
        let handle = try createdHandle(try client.responses())
        #expect(try worker.responses() == [.noop])

        try worker.send(.grabJob(.unique))
        server.loop.run()
        #expect(
            try worker.responses() == [
                .jobAssignUnique(
                    handle: handle, function: bytes("resize"), unique: ByteBuffer(), workload: bytes("photo"))
            ])

        try worker.send(.workComplete(handle: handle, data: bytes("thumbnail")))
        server.loop.run()
        #expect(try client.responses() == [.workComplete(handle: handle, data: bytes("thumbnail"))])
        #expect(try worker.responses() == [])
        #expect(server.core.inspect { $0.jobCount } == 0)
    }

    @Test func thePacketsOfOneReadAreAnsweredInOrder() throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        try client.send(.echo(bytes("one")), .submitJob(resize), .echo(bytes("two")), .echo(bytes("three")))
        server.loop.run()
        let answers = try client.responses()
        #expect(answers.map(\.packetType) == [.echoResponse, .jobCreated, .echoResponse, .echoResponse])
        #expect(answers.first == .echo(bytes("one")))
        #expect(answers.suffix(2) == [.echo(bytes("two")), .echo(bytes("three"))])
    }

    @Test func theReadsOfOneBatchAreAppliedTogetherAtItsEndInOrder() throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        for text in ["a", "b", "c"] {
            var buffer = ByteBuffer()
            GearmanRequest.echo(bytes(text)).encode(into: &buffer)
            client.pipeline.syncOperations.fireChannelRead(NIOAny(buffer))
        }
        server.loop.run()
        #expect(try client.responses() == [])
        #expect(server.core.inspect { $0.jobCount } == 0)

        client.pipeline.syncOperations.fireChannelReadComplete()
        server.loop.run()
        #expect(try client.responses() == [.echo(bytes("a")), .echo(bytes("b")), .echo(bytes("c"))])
    }

    /// Cut inside the header, at its end, just after it, and one byte before the end.
    @Test(arguments: [1, 5, 11, 12, 13, -1])
    func aPacketSplitAcrossTwoReadsIsAnsweredOnceWhole(cut: Int) throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        var packet = ByteBuffer()
        GearmanRequest.submitJob(resize).encode(into: &packet)
        let first = packet.readSlice(length: cut > 0 ? cut : packet.readableBytes + cut)!
        try client.writeInbound(first)
        server.loop.run()
        #expect(try client.responses() == [])

        try client.writeInbound(packet)
        server.loop.run()
        let answers = try client.responses()
        #expect(answers.count == 1)
        _ = try createdHandle(answers)
    }

    /// An unknown packet type fails in the frame reader; a SUBMIT_JOB without its separators fails in the engine.
    @Test(arguments: [
        ByteBuffer(bytes: [0, 0x52, 0x45, 0x51, 0, 0, 0x03, 0xE7, 0, 0, 0, 0]),
        ByteBuffer(bytes: [0, 0x52, 0x45, 0x51, 0, 0, 0, 7, 0, 0, 0, 6] + Array("resize".utf8)),
    ])
    func aMalformedPacketIsAnsweredWithAnErrorAndTheConnectionCloses(malformed: ByteBuffer) throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        var read = ByteBuffer()
        GearmanRequest.echo(bytes("before")).encode(into: &read)
        read.writeImmutableBuffer(malformed)
        GearmanRequest.echo(bytes("after")).encode(into: &read)
        try client.writeInbound(read)

        // Written and closed at once, without waiting for the end of the loop's turn.
        #expect(!client.isActive)
        let answers = try client.responses()
        #expect(answers.count == 2)
        #expect(answers.first == .echo(bytes("before")))
        #expect(answers.last == .error(try #require(Self.refusal(of: malformed))))
        server.loop.run()
        #expect(try client.responses() == [])
        #expect(server.core.inspect { $0.connections.isEmpty })
    }

    /// What the server answers `malformed` with: the framing's error, or else the request decoder's.
    private static func refusal(of malformed: ByteBuffer) -> GearmanProtocolError? {
        var buffer = malformed
        var decoder = GearmanFrameDecoder()
        do {
            guard case .packet(let packet)? = try decoder.decode(buffer: &buffer) else { return nil }
            _ = try GearmanRequest(packet: packet)
            return nil
        } catch {
            return error as? GearmanProtocolError
        }
    }

    @Test func anAdminLineIsAnsweredInText() throws {
        let server = EmbeddedServer()
        let worker = try server.connect()
        try worker.send(.canDo(function: bytes("resize")))
        let admin = try server.connect()
        try admin.writeInbound(ByteBuffer(string: "status\n"))
        server.loop.run()
        #expect(String(buffer: try admin.flushedBytes()) == "resize\t0\t0\t1\n.\n")
        #expect(admin.isActive)
    }

    /// `printf shutdown | nc host 4730`: the line ends with the stream, not with a newline.
    @Test func anAdminLineCutByTheEndOfTheStreamIsStillApplied() throws {
        let requested = NIOLockedValueBox<[Bool]>([])
        let server = EmbeddedServer(shutdownRequested: { graceful in requested.withLockedValue { $0.append(graceful) } }
        )
        let admin = try server.connect()
        try admin.writeInbound(ByteBuffer(string: "shutdown"))
        server.loop.run()
        #expect(requested.withLockedValue { $0 } == [])
        try admin.close().wait()
        #expect(requested.withLockedValue { $0 } == [false])
    }

    @Test func aWorkerThatGoesMidJobGivesTheJobBackToAnother() throws {
        let server = EmbeddedServer()
        let client = try server.connect()
        let first = try server.connect()
        let second = try server.connect()
        try first.send(.canDo(function: bytes("resize")))
        try second.send(.canDo(function: bytes("resize")), .preSleep)
        try client.send(.submitJob(resize))
        server.loop.run()
        let handle = try createdHandle(try client.responses())
        #expect(try second.responses() == [.noop])

        try first.send(.grabJob(.unique))
        server.loop.run()
        guard case .jobAssignUnique(handle, _, _, _)? = try first.responses().first else {
            Issue.record("the first worker was not given the job")
            return
        }
        try second.send(.preSleep)
        server.loop.run()
        #expect(try second.responses() == [])

        try first.close().wait()
        server.loop.run()
        #expect(try second.responses() == [.noop])
        try second.send(.grabJob(.unique))
        server.loop.run()
        #expect(
            try second.responses() == [
                .jobAssignUnique(
                    handle: handle, function: bytes("resize"), unique: ByteBuffer(), workload: bytes("photo"))
            ])
        #expect(try client.responses() == [])

        try second.send(.workComplete(handle: handle, data: bytes("done")))
        server.loop.run()
        #expect(try client.responses() == [.workComplete(handle: handle, data: bytes("done"))])
    }
}
