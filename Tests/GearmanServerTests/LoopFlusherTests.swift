import GearmanProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import GearmanServer

/// Counts the writes and flushes that reach the socket end of a connection's pipeline.
final class WriteCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var writes = 0
    private(set) var flushes = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes += 1
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// `LoopFlusher`: what connections are written during a turn of their event loop goes out at its end, once
/// per connection, and messages for connections on other loops hop there once per turn.
@Suite struct LoopFlusherTests {
    let resize = GearmanSubmitJob(function: bytes("resize"), workload: bytes("photo"))

    @Test func nothingIsWrittenBeforeTheEndOfTheLoopsTurnThenEverythingIs() throws {
        let server = EmbeddedServer()
        let counter = WriteCounter()
        let client = try server.connect(front: [counter])
        try client.send(.echo(bytes("one")), .submitJob(resize))
        try client.send(.echo(bytes("two")))
        #expect(try client.readOutbound(as: ByteBuffer.self) == nil)
        #expect(counter.writes == 0 && counter.flushes == 0)

        server.loop.run()
        let answers = try client.responses()
        #expect(answers.count == 3)
        #expect(answers.first == .echo(bytes("one")))
        #expect(answers.last == .echo(bytes("two")))
        #expect(counter.writes == 1 && counter.flushes == 1)

        server.loop.run()
        #expect(counter.writes == 1 && counter.flushes == 1, "a connection not written to again is not flushed again")
    }

    /// Two workers' reads in one turn finish two jobs of one client: it gets both results in one write.
    @Test func aConnectionWrittenByOthersReadsIsFlushedOncePerTurn() throws {
        let server = EmbeddedServer()
        let counter = WriteCounter()
        let client = try server.connect(front: [counter])
        let workers = [try server.connect(), try server.connect()]
        for worker in workers {
            try worker.send(.canDo(function: bytes("resize")))
        }
        try client.send(
            .submitJob(resize), .submitJob(GearmanSubmitJob(function: bytes("resize"), workload: bytes("other"))))
        for worker in workers {
            try worker.send(.grabJob(.unique))
        }
        server.loop.run()
        #expect(try client.responses().count == 2)
        var handles: [ByteBuffer] = []
        for worker in workers {
            guard case .jobAssignUnique(let handle, _, _, _)? = try worker.responses().first else {
                Issue.record("a worker was not given a job")
                return
            }
            handles.append(handle)
        }
        let (writes, flushes) = (counter.writes, counter.flushes)

        for (worker, handle) in zip(workers, handles) {
            try worker.send(.workComplete(handle: handle, data: bytes("done")))
        }
        #expect(try client.readOutbound(as: ByteBuffer.self) == nil)
        server.loop.run()
        #expect(counter.writes == writes + 1 && counter.flushes == flushes + 1)
        #expect(
            try client.responses() == handles.map { .workComplete(handle: $0, data: bytes("done")) })
    }

    /// A worker on another loop: the result crosses when the worker's loop ends its turn and is written when
    /// the client's loop ends its own.
    @Test func messagesForAnotherLoopHopThereAtTheEndOfTheTurn() throws {
        let server = EmbeddedServer()
        let workerLoop = EmbeddedEventLoop()
        let client = try server.connect()
        let worker = try server.connect(on: workerLoop)
        #expect(server.core.flusher(for: workerLoop) !== server.core.flusher(for: server.loop))
        try worker.send(.canDo(function: bytes("resize")), .preSleep)
        workerLoop.run()

        try client.send(.submitJob(resize))
        server.loop.run()
        let handle = try createdHandle(try client.responses())
        #expect(try worker.responses() == [])
        workerLoop.run()
        #expect(try worker.responses() == [.noop])

        try worker.send(.grabJob(.unique))
        workerLoop.run()
        #expect(try worker.responses().count == 1)

        try worker.send(.workComplete(handle: handle, data: bytes("done")))
        server.loop.run()
        #expect(try client.responses() == [], "the worker's loop has not ended its turn")
        workerLoop.run()
        #expect(try client.responses() == [], "the client's loop has not run the hop")
        server.loop.run()
        #expect(try client.responses() == [.workComplete(handle: handle, data: bytes("done"))])
    }
}
