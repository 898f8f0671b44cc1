import GearmanProtocol
import NIOCore

/// One accepted job, from its submission until a worker finishes it, it is cancelled or its retries run out.
final class Job {
    enum State {
        /// Waiting in its function's queue.
        case queued
        /// SUBMIT_JOB_EPOCH: waiting for its time to come.
        case scheduled(epoch: Int64)
        /// A new background job whose row is being written; it is queued (or scheduled, with its epoch) once
        /// the store has committed it.
        case storing(epoch: Int64?)
        /// Held by a worker.
        case running(worker: ConnectionID)
        /// Finished, cancelled, dropped or dead; it may still sit in a queue until it reaches the front.
        case gone
    }

    /// What few jobs carry, kept apart so that a queued job of the common kind stays small (a million queued
    /// jobs are a million of these objects).
    final class Extras {
        var unique = Job.noUnique
        var reducer: ByteBuffer?
        var numerator: UInt32 = 0
        var denominator: UInt32 = 0
        var retries: UInt32 = 0
        /// Attempts that ended in failure (`RetryPolicy`), the last one's error, and when the first and the
        /// last failed.
        var progress = JobProgress.none
        /// Set by a WORK_DATA of a cached function's job: its WORK_COMPLETE holds only the rest of the result.
        var resultIsPartial = false
        /// Waiters after the first, in the order they attached: only coalesced foreground jobs have them.
        var moreWaiters: [ConnectionID] = []
    }

    // Declared largest first, the one-byte fields together, so that the object packs into 96 bytes (a
    // 112-byte allocation); the unique key, which many jobs lack, lives in `extras`.
    let handle: JobHandle
    let function: FunctionQueue
    let workload: ByteBuffer
    /// Position in the global FIFO order of its priority.
    @exclusivity(unchecked) var sequence: UInt64 = 0
    /// The first client waiting for the result, `ConnectionID.none` when none does. Kept inline rather than
    /// in an array, which would be an allocation for every foreground job.
    @exclusivity(unchecked) private var firstWaiter: ConnectionID
    @exclusivity(unchecked) private var extras: Extras?
    @exclusivity(unchecked) var state: State = .queued
    let priority: GearmanPriority
    /// Set when any submitter asked for it in the background: it runs even with no client waiting.
    @exclusivity(unchecked) var runsDetached: Bool
    /// Whether it has a row in the store: the row is deleted when the job ends.
    @exclusivity(unchecked) var storage = Storage.none
    /// Counts assignments, so that a timeout set for an earlier attempt is recognised and ignored.
    @exclusivity(unchecked) var attempt: UInt32 = 0
    /// With metrics on: when it was queued, then when it was handed out (`ServerMetrics.milliseconds()`).
    @exclusivity(unchecked) var stamp: UInt32 = 0

    enum Storage {
        case none
        /// Its row is being written; background submitters are acknowledged once it is committed.
        case writing
        case stored
    }

    var isStored: Bool { storage != .none }

    init(
        handle: JobHandle, function: FunctionQueue, unique: ByteBuffer, workload: ByteBuffer,
        reducer: ByteBuffer?, priority: GearmanPriority, runsDetached: Bool, waiter: ConnectionID = .none
    ) {
        self.handle = handle
        self.function = function
        self.workload = workload
        if unique.readableBytes > 0 || reducer != nil {
            let extras = Extras()
            extras.unique = unique
            extras.reducer = reducer
            self.extras = extras
        }
        self.priority = priority
        self.runsDetached = runsDetached
        self.firstWaiter = waiter
    }

    /// Clients waiting for the result, in the order they attached.
    var waiters: JobWaiters {
        JobWaiters(first: firstWaiter, more: extras?.moreWaiters ?? [])
    }

    var hasWaiters: Bool { firstWaiter != .none }

    func addWaiter(_ id: ConnectionID) {
        if firstWaiter == .none {
            firstWaiter = id
        } else {
            ensureExtras().moreWaiters.append(id)
        }
    }

    /// Removes every place `id` holds among the waiters; the others keep their order.
    func removeWaiter(_ id: ConnectionID) {
        extras?.moreWaiters.removeAll { $0 == id }
        if firstWaiter == id {
            firstWaiter = extras?.moreWaiters.isEmpty == false ? extras!.moreWaiters.removeFirst() : .none
        }
    }

    func removeAllWaiters() {
        firstWaiter = .none
        extras?.moreWaiters.removeAll()
    }

    /// Empty when the job has no unique key.
    var unique: ByteBuffer { extras?.unique ?? Self.noUnique }

    /// One empty buffer for every job without a unique key.
    static let noUnique = ByteBuffer()

    /// Recomputed rather than stored: it repeats the unique (or the workload) and the function.
    var uniqueKey: UniqueKey? {
        UniqueKey(function: function, unique: unique, workload: workload)
    }

    /// Present for SUBMIT_REDUCE_JOB; decides between JOB_ASSIGN_ALL and JOB_ASSIGN_UNIQ.
    var reducer: ByteBuffer? { extras?.reducer }

    /// The last WORK_STATUS.
    var numerator: UInt32 {
        get { extras?.numerator ?? 0 }
        set { ensureExtras().numerator = newValue }
    }

    var denominator: UInt32 {
        get { extras?.denominator ?? 0 }
        set { ensureExtras().denominator = newValue }
    }

    /// Failed attempts so far (worker gone, ability dropped, timeout).
    var retries: UInt32 {
        get { extras?.retries ?? 0 }
        set { ensureExtras().retries = newValue }
    }

    /// How its attempts went so far.
    var progress: JobProgress {
        get { extras?.progress ?? .none }
        set { ensureExtras().progress = newValue }
    }

    /// Whether the worker streamed part of the result in WORK_DATA, so that WORK_COMPLETE lacks it.
    var resultIsPartial: Bool {
        get { extras?.resultIsPartial ?? false }
        set { ensureExtras().resultIsPartial = newValue }
    }

    private func ensureExtras() -> Extras {
        if let extras { return extras }
        let made = Extras()
        extras = made
        return made
    }

    var isGone: Bool {
        if case .gone = state { return true }
        return false
    }

    var isRunning: Bool {
        if case .running = state { return true }
        return false
    }

    /// The job as its row holds it.
    var stored: StoredJob {
        var epoch: Int64?
        switch state {
        case .scheduled(let due): epoch = due
        case .storing(let due): epoch = due
        case .queued, .running, .gone: epoch = nil
        }
        return StoredJob(
            id: handle.number, function: function.name, unique: unique, priority: priority, epoch: epoch,
            reducer: reducer, workload: workload, progress: progress)
    }
}
