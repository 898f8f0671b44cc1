import NIOCore

/// A shared store's group as this server last saw it, for `show servers` and `status`.
public struct StoreGroupStatus: Sendable {
    public struct Member: Sendable, Hashable {
        public var name: String
        public var isSelf: Bool
        /// Until its lease expires; negative once it has.
        public var leaseMilliseconds: Int64
        /// Jobs stored under its name; nil when not counted this time.
        public var queued: Int?
    }

    public var members: [Member] = []
    /// Stored jobs of the other servers, by function; nil when not counted this time.
    public var queuedElsewhere: [ByteBuffer: Int]?

    public init(members: [Member] = [], queuedElsewhere: [ByteBuffer: Int]? = nil) {
        self.members = members
        self.queuedElsewhere = queuedElsewhere
    }
}
