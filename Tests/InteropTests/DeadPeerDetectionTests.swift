import GearmanProtocol
import NIOCore
import NIOPosix
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The socket options that make a vanished peer noticed in seconds rather than hours, read back from a
/// real connected socket.
@Suite struct DeadPeerDetectionTests {
    /// gearmand's --keepalive-idle reaches the server's side of an accepted connection: `ss` shows its
    /// keepalive timer counting down from 7 seconds rather than the default 10.
    @Test func keepaliveFlagsReachTheServersSockets() async throws {
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "--keepalive", "--keepalive-idle", "7", "--keepalive-interval", "2",
                "--keepalive-count", "4",
            ]
        }
        defer { server.stop() }
        let client = try await RawConnection(port: port)
        try await client.send(line: "version")
        _ = try await client.receiveAdminReply()
        let sockets = try await ChildProcess.run("ss", ["-tnoH", "state", "established", "( sport = :\(port) )"])
        let text = String(decoding: sockets.stdout, as: UTF8.self)
        let timer = try #require(text.range(of: "timer:(keepalive,"), "ss shows no keepalive timer: \(text)")
        let seconds = Double(text[timer.upperBound...].prefix { $0.isNumber || $0 == "." }) ?? 0
        #expect(seconds > 5 && seconds <= 7, "\(text)")
    }

    @Test func theDefaultsReachTheSocket() async throws {
        try await withGearboxServer { server in
            let detection = DeadPeerDetection.default
            let bootstrap = detection.socketOptions.reduce(
                ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            ) {
                $0.channelOption($1.0, value: $1.1)
            }
            let channel = try await bootstrap.connect(host: "127.0.0.1", port: server.port).get()
            defer { channel.close(promise: nil) }
            func read(_ level: NIOBSDSocket.OptionLevel, _ name: Int32) async throws -> SocketOptionValue {
                try await channel.getOption(
                    ChannelOptions.Types.SocketOption(level: level, name: .init(rawValue: name))
                ).get()
            }
            #expect(try await read(.socket, SO_KEEPALIVE) == 1)
            #expect(try await read(.tcp, TCP_KEEPIDLE) == 10)
            #expect(try await read(.tcp, TCP_KEEPINTVL) == 5)
            #expect(try await read(.tcp, TCP_KEEPCNT) == 3)
            #expect(try await read(.tcp, TCP_USER_TIMEOUT) == 30_000)
        }
    }
}
