import DequeModule
import GearmanProtocol
import NIOCore

/// A registered function: its three priority queues, its sleeping workers and its counters.
final class FunctionQueue {
    let name: ByteBuffer
    let nameString: String

    @exclusivity(unchecked) private var high = Deque<Job>()
    @exclusivity(unchecked) private var normal = Deque<Job>()
    @exclusivity(unchecked) private var low = Deque<Job>()
    /// Live queued jobs per priority; the deques may also hold jobs that are gone.
    @exclusivity(unchecked) private(set) var queuedCounts = [0, 0, 0]
    @exclusivity(unchecked) var runningCount = 0
    @exclusivity(unchecked) var scheduledCount = 0
    /// New background jobs whose rows are being written: not yet acknowledged, so not in `totalCount`.
    @exclusivity(unchecked) var storingCount = 0
    @exclusivity(unchecked) var workerCount = 0
    /// What happened to its jobs so far; metrics publish it when scraped.
    @exclusivity(unchecked) var counts = FunctionCounts()
    /// How long its jobs waited and ran, recorded per job; nil without metrics.
    var timers: JobTimers?
    /// Set when its results are kept (`ResultCache`); nil costs a submission nothing more than this check.
    var cachedFunction: CachedFunction?
    /// Set when its background jobs' results are kept by handle (`--keep-results`).
    var keptResults: CachedFunction?
    /// Retries a failed background job gets (`RetryPolicy`).
    var retries = 0
    /// Set when the admin `drop function` removed it; a connection's cached reference then no longer counts.
    var isDropped = false
    /// Per priority; 0 means unlimited.
    var maximumQueueSizes = [0, 0, 0]
    /// Workers that sent PRE_SLEEP, with the sleep they were in, so that stale entries are recognised.
    @exclusivity(unchecked) private(set) var sleepers = Deque<(connection: ConnectionID, sleep: UInt64)>()

    init(name: ByteBuffer) {
        self.name = name
        nameString = String(buffer: name)
    }

    var queuedCount: Int { queuedCounts[0] + queuedCounts[1] + queuedCounts[2] }

    /// TOTAL in the admin `status`: queued, scheduled and running jobs.
    var totalCount: Int { queuedCount + scheduledCount + runningCount }

    func isFull(at priority: GearmanPriority) -> Bool {
        let limit = maximumQueueSizes[priority.rawValue]
        return limit > 0 && queuedCounts[priority.rawValue] >= limit
    }

    func enqueue(_ job: Job) {
        queuedCounts[job.priority.rawValue] += 1
        switch job.priority {
        case .high: high.append(job)
        case .normal: normal.append(job)
        case .low: low.append(job)
        }
    }

    /// Puts a job that lost its worker back at the front, ahead of newer work.
    func requeueAtFront(_ job: Job) {
        queuedCounts[job.priority.rawValue] += 1
        switch job.priority {
        case .high: high.prepend(job)
        case .normal: normal.prepend(job)
        case .low: low.prepend(job)
        }
    }

    /// Accounts for a queued job that was cancelled or dropped; it stays in its deque until it reaches the front.
    func forgetQueued(_ job: Job) {
        queuedCounts[job.priority.rawValue] -= 1
    }

    /// The oldest live job at a priority, discarding gone jobs found at the front.
    func head(at priority: GearmanPriority) -> Job? {
        switch priority {
        case .high: Self.head(of: &high)
        case .normal: Self.head(of: &normal)
        case .low: Self.head(of: &low)
        }
    }

    func removeHead(at priority: GearmanPriority) -> Job {
        queuedCounts[priority.rawValue] -= 1
        switch priority {
        case .high: return high.removeFirst()
        case .normal: return normal.removeFirst()
        case .low: return low.removeFirst()
        }
    }

    private static func head(of queue: inout Deque<Job>) -> Job? {
        while let first = queue.first {
            if !first.isGone { return first }
            queue.removeFirst()
        }
        return nil
    }

    /// Lets go of every queued job: a queued job refers back to its function, so the two would keep each
    /// other alive after the engine is gone.
    func removeAllJobs() {
        high.removeAll()
        normal.removeAll()
        low.removeAll()
        queuedCounts = [0, 0, 0]
    }

    /// Every job the deques hold, gone ones included, with the priority of the deque: for consistency checks.
    var heldJobs: [(priority: GearmanPriority, job: Job)] {
        high.map { (.high, $0) } + normal.map { (.normal, $0) } + low.map { (.low, $0) }
    }

    /// All live queued jobs, for the admin protocol.
    var queuedJobs: [Job] {
        (high + normal + low).filter { !$0.isGone }
    }

    func addSleeper(_ connection: ConnectionID, sleep: UInt64, isCurrent: (ConnectionID, UInt64) -> Bool) {
        sleepers.append((connection, sleep))
        // Entries go stale when a worker is woken for another function; keep them from piling up.
        if sleepers.count > 2 * workerCount + 8 {
            sleepers = Deque(sleepers.filter { isCurrent($0.connection, $0.sleep) })
        }
    }

    /// The next sleeper that is still asleep, removed from the list.
    func popSleeper(isCurrent: (ConnectionID, UInt64) -> Bool) -> ConnectionID? {
        while let sleeper = sleepers.popFirst() {
            if isCurrent(sleeper.connection, sleeper.sleep) { return sleeper.connection }
        }
        return nil
    }
}
