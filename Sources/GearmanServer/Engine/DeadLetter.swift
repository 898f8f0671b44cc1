import GearmanProtocol
import NIOCore

/// A background job whose last attempt failed, kept for the operator to look at, retry or purge.
final class DeadLetter {
    let handle: JobHandle
    let function: FunctionQueue
    let unique: ByteBuffer
    let workload: ByteBuffer
    let reducer: ByteBuffer?
    let priority: GearmanPriority
    let attempts: UInt32
    let lastError: String
    let firstFailed: Int64
    let lastFailed: Int64
    /// Its row in the store, marked dead: there, or still being written when its job died before the store
    /// had committed the job's row.
    var storage: Job.Storage

    var isStored: Bool { storage != .none }

    init(
        handle: JobHandle, function: FunctionQueue, unique: ByteBuffer, workload: ByteBuffer, reducer: ByteBuffer?,
        priority: GearmanPriority, attempts: UInt32, lastError: String, firstFailed: Int64, lastFailed: Int64,
        storage: Job.Storage
    ) {
        self.handle = handle
        self.function = function
        self.unique = unique
        self.workload = workload
        self.reducer = reducer
        self.priority = priority
        self.attempts = attempts
        self.lastError = lastError
        self.firstFailed = firstFailed
        self.lastFailed = lastFailed
        self.storage = storage
    }

    /// Its row as the store keeps it: marked dead, with its attempts and last error.
    var stored: StoredJob {
        StoredJob(
            id: handle.number, function: function.name, unique: unique, priority: priority, epoch: nil,
            reducer: reducer, workload: workload,
            progress: JobProgress(
                attempts: attempts, lastError: lastError, firstFailed: firstFailed, lastFailed: lastFailed,
                isDead: true))
    }
}
