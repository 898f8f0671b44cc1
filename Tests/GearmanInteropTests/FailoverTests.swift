import Gearman
import GearmanProtocol
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// A client with several servers whose chosen server drops the connection: a request the server had not
/// acknowledged goes to the next server; one it had acknowledged fails with `connectionLost`, since the job
/// may be running there.
@Suite struct FailoverTests {
    /// A server that answers OPTION_REQ, then drops the connection when a job is submitted: at once, or
    /// after JOB_CREATED.
    final class DroppingServer: ChannelInboundHandler, Sendable {
        typealias InboundIn = GearmanFrame
        typealias OutboundOut = ByteBuffer
        let acknowledgeFirst: Bool

        init(acknowledgeFirst: Bool) {
            self.acknowledgeFirst = acknowledgeFirst
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .packet(let packet) = unwrapInboundIn(data), let request = try? GearmanRequest(packet: packet)
            else {
                context.close(promise: nil)
                return
            }
            var reply = ByteBuffer()
            switch request {
            case .option(let name):
                GearmanResponse.option(name).encode(into: &reply)
                context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            case .submitJob:
                if acknowledgeFirst {
                    GearmanResponse.jobCreated(handle: ByteBuffer(string: "H:dropping:1")).encode(into: &reply)
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
                } else {
                    context.close(promise: nil)
                }
            default:
                context.close(promise: nil)
            }
        }

        static func start(acknowledgeFirst: Bool) async throws -> any Channel {
            try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(GearmanFrameDecoder()),
                            DroppingServer(acknowledgeFirst: acknowledgeFirst))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
        }
    }

    func address(of channel: any Channel) -> GearmanServerAddress {
        GearmanServerAddress(host: "127.0.0.1", port: channel.localAddress!.port!)
    }

    @Test func anUnacknowledgedSubmitGoesToTheNextServer() async throws {
        let dropping = try await DroppingServer.start(acknowledgeFirst: false)
        defer { dropping.close(promise: nil) }
        let server = try await TestServer.start(.gearbox)
        let worker = GearmanWorker(servers: [server.address])
        worker.register("echo") { job in job.workload }
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        let client = GearmanClient(servers: [address(of: dropping), server.address])
        try await withDeadline(.seconds(60)) {
            for index in 0..<4 {
                let result = try await client.submit("echo", workload: Array("\(index)".utf8), timeout: .seconds(10))
                #expect(String(buffer: result) == "\(index)")
                let handle = try await client.submitBackground(
                    "echo", workload: Array("bg".utf8), timeout: .seconds(10))
                #expect(handle.server == server.address)
            }
        }
        await client.shutdown()
    }

    @Test func anAcknowledgedSubmitIsNotSentTwice() async throws {
        let dropping = try await DroppingServer.start(acknowledgeFirst: true)
        defer { dropping.close(promise: nil) }
        let client = GearmanClient(servers: [address(of: dropping)])
        _ = try await withDeadline(.seconds(60)) {
            await #expect(throws: GearmanError.connectionLost(server: address(of: dropping))) {
                _ = try await client.submit("echo", workload: Array("x".utf8), timeout: .seconds(10))
            }
        }
        await client.shutdown()
    }
}
