/// A job event kept in the store's outbox until every hook has it: written in the same transaction as the
/// change it reports, so that an acknowledged change's event survives a crash, and deleted once delivered.
public struct StoredJobEvent: Sendable, Hashable {
    /// Unique within this server's outbox, growing in the order the events happened.
    public var id: UInt64
    public var event: JobEvent

    public init(id: UInt64, event: JobEvent) {
        self.id = id
        self.event = event
    }
}
