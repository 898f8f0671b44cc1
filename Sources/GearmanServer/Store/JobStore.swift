/// A durable home for background jobs, used by one thread at a time: the `StoreWriter`'s.
protocol JobStore: AnyObject {
    /// Reads every stored job back, in `id` order, a chunk at a time. Rows that cannot be read are set
    /// aside and counted, never thrown: a bad row must not keep the server from starting.
    func recover(_ restore: ([StoredJob]) -> Void) throws -> StoreRecovery

    /// Writes the new rows and deletes the ended ones in one transaction, durable when it returns.
    func write(inserting: [StoredJob], deleting: [UInt64]) throws
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
