import NIOCore

/// A durable home for background jobs, used by one thread at a time: the `StoreWriter`'s.
protocol JobStore: AnyObject {
    /// Reads every stored job back, in `id` order, a chunk at a time. Rows that cannot be read are set
    /// aside and counted, never thrown: a bad row must not keep the server from starting.
    func recover(_ restore: ([StoredJob]) -> Void) throws -> StoreRecovery

    /// Writes the new rows, rewrites the progress (attempts, last error, due time, dead) of rows already
    /// written, deletes the ended ones, adds events to the outbox and removes delivered ones, in one
    /// transaction, durable when it returns. No job id is in more than one of the three job lists.
    func write(
        inserting: [StoredJob], updating: [StoredJob], deleting: [UInt64], events: [StoredJobEvent],
        eventsDelivered: [UInt64]
    ) throws

    /// The events of this server's outbox that were never delivered, in `id` order.
    func recoverEvents() throws -> [StoredJobEvent]

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

extension JobStore {
    /// Inserts and deletes, with no progress to rewrite and no events.
    func write(inserting: [StoredJob], deleting: [UInt64]) throws {
        try write(inserting: inserting, updating: [], deleting: deleting)
    }

    func write(inserting: [StoredJob], updating: [StoredJob], deleting: [UInt64]) throws {
        try write(inserting: inserting, updating: updating, deleting: deleting, events: [], eventsDelivered: [])
    }
}
