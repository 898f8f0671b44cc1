import GearmanProtocol

/// The engine's jobs by handle, in pages of `pageSize` slots indexed by the handle's number.
///
/// Handles are handed out in sequence, so a page fills densely: about 8 bytes a job, where a dictionary of
/// handles to jobs took about 33 (its entry, at three quarters full at most). A page goes when its last job
/// does, so a long-running job keeps one page alive, not the handles issued since. Handles from elsewhere
/// (jobs adopted from another server of a store group) land in pages of their own. Every operation is O(1).
struct JobTable {
    static let pageSize: UInt64 = 256

    private final class Page {
        @exclusivity(unchecked) var slots = [Job?](repeating: nil, count: Int(JobTable.pageSize))
        @exclusivity(unchecked) var occupied = 0
    }

    /// A page's number: its handles' numbers divided by `pageSize`. Hashed as `JobHandle` hashes its number
    /// (one multiplication), since page numbers too are handed out in sequence.
    private struct PageNumber: Hashable {
        let value: UInt64

        init(_ handle: JobHandle) {
            value = handle.number / JobTable.pageSize
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(value)
        }

        func _rawHashValue(seed: Int) -> Int {
            JobHandle(value)._rawHashValue(seed: seed)
        }
    }

    private var pages: [PageNumber: Page] = [:]
    private(set) var count = 0

    private static func slot(of handle: JobHandle) -> Int {
        Int(handle.number % pageSize)
    }

    subscript(handle: JobHandle) -> Job? {
        get {
            pages[PageNumber(handle)]?.slots[Self.slot(of: handle)]
        }
        set {
            if let newValue {
                insert(newValue, at: handle)
            } else {
                removeValue(forKey: handle)
            }
        }
    }

    private mutating func insert(_ job: Job, at handle: JobHandle) {
        let number = PageNumber(handle)
        let page: Page
        if let existing = pages[number] {
            page = existing
        } else {
            page = Page()
            pages[number] = page
        }
        let slot = Self.slot(of: handle)
        if page.slots[slot] == nil {
            page.occupied += 1
            count += 1
        }
        page.slots[slot] = job
    }

    @discardableResult
    mutating func removeValue(forKey handle: JobHandle) -> Job? {
        let number = PageNumber(handle)
        guard let page = pages[number] else { return nil }
        let slot = Self.slot(of: handle)
        guard let job = page.slots[slot] else { return nil }
        page.slots[slot] = nil
        page.occupied -= 1
        count -= 1
        if page.occupied == 0 {
            pages.removeValue(forKey: number)
        }
        return job
    }

    var isEmpty: Bool { count == 0 }

    /// Pages held now: one per run of `pageSize` handles with a job in it.
    var pageCount: Int { pages.count }

    /// Every job, in no particular order: for the admin protocol, consistency checks and recovery, not for
    /// a job's path.
    var values: [Job] {
        entries.map(\.job)
    }

    /// Every job with the handle it is filed under, in no particular order.
    var entries: [(handle: JobHandle, job: Job)] {
        var all: [(handle: JobHandle, job: Job)] = []
        all.reserveCapacity(count)
        for (number, page) in pages {
            for (slot, job) in page.slots.enumerated() {
                if let job {
                    all.append((JobHandle(number.value * Self.pageSize + UInt64(slot)), job))
                }
            }
        }
        return all
    }
}
