import GearmanProtocol
import NIOCore

/// A background job as its row in a store holds it.
public struct StoredJob: Sendable, Hashable {
    /// The number of the job's handle: unique within the store, and growing in arrival order.
    public var id: UInt64
    public var function: ByteBuffer
    /// Empty when the job has no unique key.
    public var unique: ByteBuffer
    public var priority: GearmanPriority
    /// SUBMIT_JOB_EPOCH's time to run; nil runs as soon as a worker asks.
    public var epoch: Int64?
    /// Present for a background SUBMIT_REDUCE_JOB.
    public var reducer: ByteBuffer?
    public var workload: ByteBuffer
    /// Failed attempts so far, and whether the job is a dead letter; `epoch` is a retry's due time.
    public var progress: JobProgress

    public init(
        id: UInt64, function: ByteBuffer, unique: ByteBuffer, priority: GearmanPriority, epoch: Int64?,
        reducer: ByteBuffer?, workload: ByteBuffer, progress: JobProgress = .none
    ) {
        self.progress = progress
        self.id = id
        self.function = function
        self.unique = unique
        self.priority = priority
        self.epoch = epoch
        self.reducer = reducer
        self.workload = workload
    }
}
