import NIOCore

/// A durable home for background jobs, used by one thread at a time: the `StoreWriter`'s.
protocol JobStore: AnyObject {
    /// Reads every stored job back, in `id` order, a chunk at a time. Rows that cannot be read are set
    /// aside and counted, never thrown: a bad row must not keep the server from starting.
    func recover(_ restore: ([StoredJob]) -> Void) throws -> StoreRecovery

    /// Writes the new rows and deletes the ended ones in one transaction, durable when it returns.
    func write(inserting: [StoredJob], deleting: [UInt64]) throws

    /// How often `maintain` must run; nil for a store that no other server shares.
    var maintenanceInterval: TimeAmount? { get }

    /// For a shared store: renews this server's lease, adopts the jobs of servers whose lease expired, and
    /// looks at the group.
    func maintain(_ group: StoreGroupDelegate) throws

    /// Ends the store's use, on the writer's thread, after its last write.
    func close()
}

extension JobStore {
    var maintenanceInterval: TimeAmount? { nil }

    func maintain(_ group: StoreGroupDelegate) throws {}

    func close() {}
}

/// What a shared store asks of its server during `maintain`; each is called on the writer's thread.
struct StoreGroupDelegate: Sendable {
    /// Sets aside this many handle numbers for adopted jobs; returns the first.
    var reserveHandles: @Sendable (Int) -> UInt64
    /// Queues jobs adopted from a dead server, with numbers from `reserveHandles`, after their commit.
    var adopt: @Sendable ([StoredJob]) -> Void
    /// The lease was renewed and holds at least until this Unix time.
    var leaseRenewed: @Sendable (Int64) -> Void
    /// Another server adopted this one's jobs (its lease had expired): drop them.
    var lostStoredJobs: @Sendable () -> Void
    /// Whether someone asked for the group's counts since the last call.
    var wantsCounts: @Sendable () -> Bool
    /// The group as just read.
    var observed: @Sendable (StoreGroupStatus) -> Void

    /// For a store no other server shares, which never calls it.
    static let unshared = StoreGroupDelegate(
        reserveHandles: { _ in preconditionFailure("an unshared store adopts nothing") }, adopt: { _ in },
        leaseRenewed: { _ in }, lostStoredJobs: {}, wantsCounts: { false }, observed: { _ in })
}

/// What a store's replay found.
public struct StoreRecovery: Sendable, Hashable {
    /// Jobs read back and queued.
    public var restored = 0
    /// Rows that could not be read: kept in the store, apart, and logged.
    public var setAside = 0

    public init(restored: Int = 0, setAside: Int = 0) {
        self.restored = restored
        self.setAside = setAside
    }
}
