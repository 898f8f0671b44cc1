import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How soon a connection notices a peer that vanished without closing it (a cut link, a host that lost
/// power): TCP keepalive probes on an idle connection, and a limit on how long sent data may stay
/// unacknowledged. The operating system's defaults take two hours and about fifteen minutes.
public struct DeadPeerDetection: Sendable, Hashable {
    /// Idle time before the first keepalive probe.
    public var idle: Duration
    /// Time between probes.
    public var interval: Duration
    /// Unanswered probes after which the connection is dead.
    public var probes: Int
    /// Longest time sent data may stay unacknowledged (TCP_USER_TIMEOUT, Linux).
    public var unacknowledged: Duration

    public init(
        idle: Duration = .seconds(10), interval: Duration = .seconds(5), probes: Int = 3,
        unacknowledged: Duration = .seconds(30)
    ) {
        self.idle = idle
        self.interval = interval
        self.probes = probes
        self.unacknowledged = unacknowledged
    }

    /// About 25 seconds for a silent peer, 30 seconds for one that stopped acknowledging.
    public static let `default` = DeadPeerDetection()

    /// The socket options that carry it, for a NIO bootstrap's `channelOption` (or `childChannelOption`).
    public var socketOptions: [(ChannelOptions.Types.SocketOption, SocketOptionValue)] {
        var options: [(ChannelOptions.Types.SocketOption, SocketOptionValue)] = [
            (.init(level: .socket, name: .so_keepalive), 1)
        ]
        #if os(Linux)
        let tcp = NIOBSDSocket.OptionLevel.tcp
        options += [
            (.init(level: tcp, name: .init(rawValue: TCP_KEEPIDLE)), SocketOptionValue(Self.seconds(idle))),
            (.init(level: tcp, name: .init(rawValue: TCP_KEEPINTVL)), SocketOptionValue(Self.seconds(interval))),
            (.init(level: tcp, name: .init(rawValue: TCP_KEEPCNT)), SocketOptionValue(max(1, probes))),
            (
                .init(level: tcp, name: .init(rawValue: TCP_USER_TIMEOUT)),
                SocketOptionValue(Self.milliseconds(unacknowledged))
            ),
        ]
        #endif
        return options
    }

    private static func seconds(_ duration: Duration) -> Int32 {
        Int32(clamping: max(1, duration.components.seconds))
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        Int32(clamping: duration.wholeMilliseconds)
    }
}
