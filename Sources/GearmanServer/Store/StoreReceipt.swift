import GearmanProtocol

/// What comes back from the store for each row it was asked to write: the job, and the client whose
/// background submission waits for the commit. It travels with the row, which spares the engine a table of
/// pending acknowledgements on its busiest path.
public struct StoreReceipt: Sendable, Hashable {
    public var handle: JobHandle
    public var submitter: ConnectionID

    public init(handle: JobHandle, submitter: ConnectionID) {
        self.handle = handle
        self.submitter = submitter
    }
}
