import DequeModule
import GearmanServer

/// The events waiting for delivery: one queue per ``WebhookTarget``, in the order they were posted, and one
/// bound on them all together. An entry stays at the head of its queue while it is being sent, and leaves it
/// when it has been delivered or dropped.
struct WebhookOutbox {
    struct Entry: Sendable {
        /// Increases with every entry of every queue: the oldest entry of the outbox has the lowest.
        var sequence: UInt64
        var event: JobEvent
    }

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
    /// dropped, and whether these drops begin a burst.
    mutating func append(_ event: JobEvent, to targets: [Int]) -> (dropped: Int, beginsBurst: Bool) {
        var droppedNow = 0
        for target in targets {
            if count >= capacity {
                dropOldest()
                droppedNow += 1
            }
            queues[target].append(Entry(sequence: nextSequence, event: event))
            nextSequence += 1
            count += 1
        }
        let beginsBurst = droppedNow > 0 && !isDropping
        isDropping = droppedNow > 0
        return (droppedNow, beginsBurst)
    }

    private mutating func dropOldest() {
        var oldest: Int?
        for index in queues.indices {
            guard let head = queues[index].first else { continue }
            if let current = oldest, let currentHead = queues[current].first, currentHead.sequence < head.sequence {
                continue
            }
            oldest = index
        }
        guard let oldest else { return }
        queues[oldest].removeFirst()
        count -= 1
        dropped += 1
    }

    func first(of target: Int) -> Entry? {
        queues[target].first
    }

    /// Counts a delivery of `entry`, and takes it off its queue unless it was dropped while it was being sent.
    mutating func delivered(_ entry: Entry, to target: Int) {
        delivered += 1
        guard queues[target].first?.sequence == entry.sequence else { return }
        queues[target].removeFirst()
        count -= 1
    }

    mutating func countFailedAttempt() {
        failedAttempts += 1
    }

    var counts: WebhookDeliveryCounts {
        WebhookDeliveryCounts(delivered: delivered, failedAttempts: failedAttempts, dropped: dropped, pending: count)
    }
}
