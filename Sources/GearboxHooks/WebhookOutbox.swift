import DequeModule
import GearmanServer

/// The events waiting for delivery: one queue per ``WebhookTarget``, in the order they were posted, and one
/// bound on them all together. An entry stays at the head of its queue while it is being sent, and leaves it
/// when it has been delivered or dropped. An event posted to several targets is finished (its
/// `PendingJobEvent.finished`, which lets the store forget it) when it has left every one of their queues.
struct WebhookOutbox {
    struct Entry: Sendable {
        /// Increases with every entry of every queue: the oldest entry of the outbox has the lowest.
        var sequence: UInt64
        /// The event's number, the same in every queue it was posted to.
        var post: UInt64
        var event: JobEvent
    }

    /// The queues an event still waits in, and what to call when it waits in none.
    private var unfinished: [UInt64: (queues: Int, pending: PendingJobEvent)] = [:]
    private var nextPost: UInt64 = 0

    let capacity: Int
    private var queues: [Deque<Entry>]
    private var nextSequence: UInt64 = 0
    private(set) var count = 0
    private(set) var dropped = 0
    private(set) var delivered = 0
    private(set) var failedAttempts = 0
    /// Set by the first drop since the outbox last had room, so that a burst of drops is reported once.
    private var isDropping = false

    init(capacity: Int, targets: Int) {
        self.capacity = max(1, capacity)
        queues = Array(repeating: Deque(), count: targets)
    }

    /// Queues `event` for each of `targets`, dropping the oldest entries to make room. Returns how many were
    /// dropped, whether these drops begin a burst, and the events the drops finished (to call outside the lock).
    mutating func append(_ pending: PendingJobEvent, to targets: [Int]) -> (
        dropped: Int, beginsBurst: Bool, finished: [PendingJobEvent]
    ) {
        var droppedNow = 0
        var finished: [PendingJobEvent] = []
        let post = nextPost
        nextPost += 1
        unfinished[post] = (targets.count, pending)
        for target in targets {
            if count >= capacity {
                if let done = dropOldest() { finished.append(done) }
                droppedNow += 1
            }
            queues[target].append(Entry(sequence: nextSequence, post: post, event: pending.event))
            nextSequence += 1
            count += 1
        }
        let beginsBurst = droppedNow > 0 && !isDropping
        isDropping = droppedNow > 0
        return (droppedNow, beginsBurst, finished)
    }

    /// `entry` left a queue; answers its event when that was the last queue it waited in.
    private mutating func left(_ entry: Entry) -> PendingJobEvent? {
        guard let waiting = unfinished[entry.post] else { return nil }
        guard waiting.queues > 1 else {
            unfinished.removeValue(forKey: entry.post)
            return waiting.pending
        }
        unfinished[entry.post] = (waiting.queues - 1, waiting.pending)
        return nil
    }

    private mutating func dropOldest() -> PendingJobEvent? {
        var oldest: Int?
        for index in queues.indices {
            guard let head = queues[index].first else { continue }
            if let current = oldest, let currentHead = queues[current].first, currentHead.sequence < head.sequence {
                continue
            }
            oldest = index
        }
        guard let oldest else { return nil }
        let entry = queues[oldest].removeFirst()
        count -= 1
        dropped += 1
        return left(entry)
    }

    func first(of target: Int) -> Entry? {
        queues[target].first
    }

    /// Counts a delivery of `entry`, and takes it off its queue unless it was dropped while it was being sent;
    /// answers its event when every target has it.
    mutating func delivered(_ entry: Entry, to target: Int) -> PendingJobEvent? {
        delivered += 1
        guard queues[target].first?.sequence == entry.sequence else { return nil }
        queues[target].removeFirst()
        count -= 1
        return left(entry)
    }

    mutating func countFailedAttempt() {
        failedAttempts += 1
    }

    var counts: WebhookDeliveryCounts {
        WebhookDeliveryCounts(delivered: delivered, failedAttempts: failedAttempts, dropped: dropped, pending: count)
    }
}
