import GearmanProtocol
import NIOCore

/// One accepted job, from its submission until a worker finishes it, it is cancelled or its retries run out.
final class Job {
    enum State {
        /// Waiting in its function's queue.
        case queued
        /// SUBMIT_JOB_EPOCH: waiting for its time to come.
        case scheduled(epoch: Int64)
        /// Held by a worker.
        case running(worker: ConnectionID)
        /// Finished, cancelled or dropped; it may still sit in a queue until it reaches the front.
        case gone
    }

    let handle: JobHandle
    let function: FunctionQueue
    /// Empty when the job has no unique key.
    let unique: ByteBuffer
    let uniqueKey: UniqueKey?
    let workload: ByteBuffer
    /// Present for SUBMIT_REDUCE_JOB; decides between JOB_ASSIGN_ALL and JOB_ASSIGN_UNIQ.
    let reducer: ByteBuffer?
    let priority: GearmanPriority
    var state: State = .queued
    /// Set when any submitter asked for it in the background: it runs even with no client waiting.
    var runsDetached: Bool
    /// Clients waiting for the result, in the order they attached.
    var waiters: [ConnectionID]
    /// Failed attempts so far (worker gone, ability dropped, timeout).
    var retries: UInt32 = 0
    /// Counts assignments, so that a timeout set for an earlier attempt is recognised and ignored.
    var attempt: UInt32 = 0
    /// Position in the global FIFO order of its priority.
    var sequence: UInt64 = 0
    var numerator: UInt32 = 0
    var denominator: UInt32 = 0

    init(
        handle: JobHandle, function: FunctionQueue, unique: ByteBuffer, uniqueKey: UniqueKey?, workload: ByteBuffer,
        reducer: ByteBuffer?, priority: GearmanPriority, runsDetached: Bool, waiters: [ConnectionID]
    ) {
        self.handle = handle
        self.function = function
        self.unique = unique
        self.uniqueKey = uniqueKey
        self.workload = workload
        self.reducer = reducer
        self.priority = priority
        self.runsDetached = runsDetached
        self.waiters = waiters
    }

    var isGone: Bool {
        if case .gone = state { return true }
        return false
    }

    var isRunning: Bool {
        if case .running = state { return true }
        return false
    }
}
