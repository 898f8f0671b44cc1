/// A job event handed to the hooks (`GearmanServerConfiguration.jobEvents`), with what to call once every
/// hook has it, or it was given up: with a store, that deletes the event from the store's outbox, where it
/// waited since the transaction that recorded its change; without one, it does nothing.
public struct PendingJobEvent: Sendable {
    public let event: JobEvent
    private let done: @Sendable () -> Void

    public init(_ event: JobEvent, done: @escaping @Sendable () -> Void = {}) {
        self.event = event
        self.done = done
    }

    /// Every hook has it, or it was dropped: it need not be delivered again after a restart.
    public func finished() {
        done()
    }
}
