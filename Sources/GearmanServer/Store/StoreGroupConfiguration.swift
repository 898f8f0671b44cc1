import NIOCore

/// How a server takes part in a group of servers that share one store (PostgreSQL): its name there, and
/// its lease. A server renews its lease every `leaseRenewal`; once a lease is `leaseExpiry` old, another
/// server of the group adopts the dead server's jobs.
public struct StoreGroupConfiguration: Sendable, Hashable {
    /// The server's name in the group: the jobs it accepted are recorded under it, and a restart under the
    /// same name finds those that no one adopted meanwhile. nil: `<job handle prefix>:<port>`.
    public var serverName: String?
    public var leaseRenewal: TimeAmount
    public var leaseExpiry: TimeAmount

    public static let maximumServerNameLength = 200

    public init(
        serverName: String? = nil, leaseRenewal: TimeAmount = .seconds(2), leaseExpiry: TimeAmount = .seconds(10)
    ) {
        self.serverName = serverName
        self.leaseRenewal = leaseRenewal
        self.leaseExpiry = leaseExpiry
    }

    /// Why the settings cannot work, or nil. A lease must outlast two renewals, so that one slow renewal
    /// does not hand a live server's jobs to another.
    public var problem: String? {
        if let serverName, serverName.isEmpty || serverName.utf8.count > Self.maximumServerNameLength {
            return "a server name must have 1 to \(Self.maximumServerNameLength) bytes"
        }
        guard leaseRenewal >= .milliseconds(100) else { return "the lease renewal must be at least 0.1 s" }
        guard leaseExpiry >= leaseRenewal * 2 else { return "the lease expiry must be at least twice the renewal" }
        return nil
    }
}
