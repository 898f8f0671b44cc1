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
