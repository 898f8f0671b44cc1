import DequeModule

/// Which results `TransformCache` holds, how many bytes they take and which was used least recently: a
/// dictionary of entries and a queue of uses in order. A use appends to the queue; an eviction pops from its
/// head and skips uses that a later one superseded; the queue is compacted once most of it is superseded.
/// Every operation is O(1), amortized. No I/O: the cache does that outside its lock.
struct TransformCacheIndex: Sendable {
    struct Entry: Sendable, Hashable {
        var bytes: Int
        var fileExtension: String
        fileprivate var lastUse: UInt64
    }

    /// A result to remove from the disk.
    struct Evicted: Sendable, Hashable {
        var key: String
        var fileExtension: String
    }

    let budget: Int
    private(set) var totalBytes = 0
    private var entries: [String: Entry] = [:]
    private var uses: Deque<(key: String, use: UInt64)> = []
    private var clock: UInt64 = 0

    init(budget: Int) {
        self.budget = max(0, budget)
    }

    var count: Int { entries.count }

    func contains(_ key: String) -> Bool { entries[key] != nil }

    /// The entry for `key`, marked as used now.
    mutating func use(_ key: String) -> Entry? {
        guard entries[key] != nil else { return nil }
        clock += 1
        entries[key]!.lastUse = clock
        uses.append((key, clock))
        compactIfMostlySuperseded()
        return entries[key]
    }

    /// Adds (or replaces) `key` as the most recently used; returns what no longer fits the budget, least
    /// recently used first. A result larger than the whole budget is not kept: it is returned itself.
    mutating func insert(_ key: String, bytes: Int, fileExtension: String) -> [Evicted] {
        var evicted: [Evicted] = []
        if let old = remove(key), old.fileExtension != fileExtension {
            evicted.append(Evicted(key: key, fileExtension: old.fileExtension))
        }
        guard bytes <= budget else {
            return evicted + [Evicted(key: key, fileExtension: fileExtension)]
        }
        clock += 1
        entries[key] = Entry(bytes: bytes, fileExtension: fileExtension, lastUse: clock)
        uses.append((key, clock))
        totalBytes += bytes
        while totalBytes > budget, let oldest = uses.popFirst() {
            guard let entry = entries[oldest.key], entry.lastUse == oldest.use else { continue }
            entries[oldest.key] = nil
            totalBytes -= entry.bytes
            evicted.append(Evicted(key: oldest.key, fileExtension: entry.fileExtension))
        }
        compactIfMostlySuperseded()
        return evicted
    }

    /// Forgets `key` (its file is gone).
    @discardableResult
    mutating func remove(_ key: String) -> Entry? {
        guard let entry = entries.removeValue(forKey: key) else { return nil }
        totalBytes -= entry.bytes
        return entry
    }

    /// Drops the superseded uses once they are more than half of the queue, keeping the order of the others.
    private mutating func compactIfMostlySuperseded() {
        guard uses.count > 64, uses.count > 2 * entries.count else { return }
        let entries = self.entries
        uses = Deque(uses.filter { entries[$0.key]?.lastUse == $0.use })
    }
}
