import GearmanTLS
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one command of the admin text protocol (`status`, `workers`, `cancel job H`, ...) to a job server
/// and returns the reply exactly as the server wrote it.
public struct GearmanAdminClient: Sendable {
    public var server: GearmanServerAddress
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?

    public init(
        server: GearmanServerAddress, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: NIOSSLContext? = nil
    ) {
        self.server = server
        self.group = eventLoopGroup
        self.tls = tls
    }

    /// Whether the reply to `command` is a table closed by a line holding a single dot.
    public static func repliesWithTable(_ command: String) -> Bool {
        let words = command.lowercased().split(separator: " ")
        guard let first = words.first else { return false }
        return ["status", "workers", "prioritystatus", "show", "cache"].contains(String(first))
    }

    public func send(_ command: String, timeout: Duration = .seconds(10)) async throws -> String {
        let (tls, host) = (self.tls, server.host)
        // The handshake is kept from here: looked up later, a failed one would already be gone with its
        // closed connection, and its reason (an untrusted certificate, say) with it.
        let (channel, handshake) = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .connect(host: server.host, port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handshake = try tls.map {
                        try channel.pipeline.syncOperations.addGearmanTLSClient(context: $0, host: host)
                    }
                    return (
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), handshake
                    )
                }
            }
        let table = Self.repliesWithTable(command)
        return try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await handshake?.get()
                    try await outbound.write(ByteBuffer(string: command + "\n"))
                    var reply = ByteBuffer()
                    for try await chunk in inbound {
                        reply.writeImmutableBuffer(chunk)
                        if Self.isComplete(reply, table: table) { break }
                    }
                    guard Self.isComplete(reply, table: table) else {
                        throw GearmanError.connectionLost(server: server)
                    }
                    return String(buffer: reply)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw GearmanError.timeout
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    static func isComplete(_ reply: ByteBuffer, table: Bool) -> Bool {
        let bytes = reply.readableBytesView
        guard bytes.last == UInt8(ascii: "\n") else { return false }
        guard table else { return true }
        if bytes.starts(with: "ERR ".utf8) { return true }
        return bytes.elementsEqual(".\n".utf8) || bytes.suffix(3).elementsEqual("\n.\n".utf8)
    }
}
