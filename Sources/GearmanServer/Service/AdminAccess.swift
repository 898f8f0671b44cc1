import NIOCore

/// Who may send the admin commands that change the server's state (`shutdown`, `cancel job`,
/// `drop function`, `create function`, `maxqueue`): connections from `networks`, and TLS connections whose
/// verified client certificate's common name is in `certificateNames`. Read-only commands are open to all.
public struct AdminAccess: Sendable, Hashable {
    public var networks: [IPNetwork]
    public var certificateNames: Set<String>

    public init(networks: [IPNetwork] = IPNetwork.loopback, certificateNames: Set<String> = []) {
        self.networks = networks
        self.certificateNames = certificateNames
    }

    /// Only loopback addresses, and no certificate: the default.
    public static let loopback = AdminAccess()

    /// Whether a peer at `address` may change state by its address alone (a certificate may grant it later).
    public func allowsChanges(from address: SocketAddress?) -> Bool {
        networks.contains { $0.contains(address) }
    }
}
