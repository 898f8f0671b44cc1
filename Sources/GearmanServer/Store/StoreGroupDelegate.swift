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
