import GearmanProtocol
import NIOCore

/// The results of cached functions' jobs, answered again without a worker while they are fresh: one byte budget
/// over every function, the least recently used result evicted first. A dictionary finds a result and a list
/// threaded through the results keeps them in the order they were last used, so every operation is O(1).
/// Time is given, in the engine's seconds; an expired result is dropped when it is next looked up, or evicted.
final class ResultCache {
    /// A result's key: its function's `CachedFunction` (which lives as long as the cache) and the unique key,
    /// or the workload for the unique `-`, as `UniqueKey` coalesces jobs.
    struct Key: Hashable {
        let function: ObjectIdentifier
        let bytes: ByteBuffer
        let isWorkload: Bool

        init(_ function: CachedFunction, _ unique: UniqueKey) {
            self.function = ObjectIdentifier(function)
            bytes = unique.bytes
            isWorkload = unique.isWorkload
        }

        /// A background job's result, kept by its handle whatever its function.
        init(_ handle: JobHandle) {
            function = ObjectIdentifier(JobHandle.self)
            var bytes = ByteBuffer()
            bytes.writeInteger(handle.number)
            self.bytes = bytes
            isWorkload = false
        }

        private init(function: ObjectIdentifier, bytes: ByteBuffer, isWorkload: Bool) {
            self.function = function
            self.bytes = bytes
            self.isWorkload = isWorkload
        }

        /// The same key in a buffer of its own, so that a kept result does not hold the read it came in.
        var owned: Key {
            Key(function: function, bytes: ByteBuffer(bytes: bytes.readableBytesView), isWorkload: isWorkload)
        }
    }

    private final class Entry {
        let key: Key
        let function: CachedFunction
        var data: ByteBuffer
        var expiresAt: Int64
        var cost: Int
        /// Used more recently; nil for the newest.
        var newer: Entry?
        /// Used less recently; nil for the oldest.
        var older: Entry?

        init(key: Key, function: CachedFunction, data: ByteBuffer, expiresAt: Int64) {
            self.key = key
            self.function = function
            self.data = data
            self.expiresAt = expiresAt
            cost = key.bytes.readableBytes + data.readableBytes
        }
    }

    let maximumBytes: Int
    /// What the results hold: their keys' and data's bytes.
    @exclusivity(unchecked) private(set) var bytes = 0
    @exclusivity(unchecked) private var entries: [Key: Entry] = [:]
    @exclusivity(unchecked) private var newest: Entry?
    @exclusivity(unchecked) private var oldest: Entry?
    private let functions: [ByteBuffer: CachedFunction]
    private let keptFunctions: [ByteBuffer: CachedFunction]

    init(configuration: ResultCacheConfiguration) {
        maximumBytes = configuration.maximumBytes
        var functions: [ByteBuffer: CachedFunction] = [:]
        for (name, timeToLive) in configuration.functions {
            functions[ByteBuffer(string: name)] = CachedFunction(name: name, timeToLive: timeToLive)
        }
        self.functions = functions
        var keptFunctions: [ByteBuffer: CachedFunction] = [:]
        for (name, timeToLive) in configuration.keptResults {
            keptFunctions[ByteBuffer(string: name)] = CachedFunction(name: name, timeToLive: timeToLive)
        }
        self.keptFunctions = keptFunctions
    }

    deinit {
        // The list links both ways: unlink it so that its entries are freed.
        while let entry = newest {
            newest = entry.older
            entry.older = nil
            entry.newer = nil
        }
    }

    /// The function's share of the cache; nil when its results are not kept. Asked once per `FunctionQueue`.
    func function(named name: ByteBuffer) -> CachedFunction? {
        functions[name]
    }

    /// The function's share for its background jobs' results, kept by handle; nil when they are not kept.
    func keptFunction(named name: ByteBuffer) -> CachedFunction? {
        keptFunctions[name]
    }

    /// Every cached function, by name.
    var cachedFunctions: [CachedFunction] {
        functions.values.sorted { $0.name < $1.name }
    }

    /// The fresh result kept under `unique`, counted as a hit, or nil, counted as a miss.
    func result(of function: CachedFunction, unique: UniqueKey, now: Int64) -> ByteBuffer? {
        guard let entry = entries[Key(function, unique)] else {
            function.counts.misses += 1
            return nil
        }
        guard now < entry.expiresAt else {
            remove(entry)
            function.counts.misses += 1
            return nil
        }
        function.counts.hits += 1
        moveToNewest(entry)
        return entry.data
    }

    /// A background job's kept result, with when it was kept and when it expires; a look by handle changes
    /// no counts and no order.
    func keptResult(of handle: JobHandle, now: Int64) -> (
        data: ByteBuffer, function: String, kept: Int64, expires: Int64
    )? {
        guard let entry = entries[Key(handle)], now < entry.expiresAt else { return nil }
        return (entry.data, entry.function.name, entry.expiresAt - entry.function.timeToLive, entry.expiresAt)
    }

    /// Keeps a background job's result under its handle.
    func keep(_ data: ByteBuffer, of function: CachedFunction, handle: JobHandle, now: Int64) {
        keep(data, of: function, key: Key(handle), now: now)
    }

    /// Keeps a job's result, in place of any older one under the same key, and evicts the least recently used
    /// results until the budget holds. A result bigger than the whole budget is not kept.
    func keep(_ data: ByteBuffer, of function: CachedFunction, unique: UniqueKey, now: Int64) {
        keep(data, of: function, key: Key(function, unique), now: now)
    }

    private func keep(_ data: ByteBuffer, of function: CachedFunction, key: Key, now: Int64) {
        if let existing = entries[key] {
            remove(existing)
        }
        guard key.bytes.readableBytes + data.readableBytes <= maximumBytes else { return }
        let entry = Entry(
            key: key.owned, function: function, data: ByteBuffer(bytes: data.readableBytesView),
            expiresAt: now + function.timeToLive)
        entries[entry.key] = entry
        entry.older = newest
        newest?.newer = entry
        newest = entry
        if oldest == nil { oldest = entry }
        bytes += entry.cost
        function.counts.entries += 1
        function.counts.bytes += entry.cost
        while bytes > maximumBytes, let victim = oldest {
            remove(victim)
            victim.function.counts.evictions += 1
        }
    }

    private func remove(_ entry: Entry) {
        entries.removeValue(forKey: entry.key)
        unlink(entry)
        bytes -= entry.cost
        entry.function.counts.entries -= 1
        entry.function.counts.bytes -= entry.cost
    }

    private func moveToNewest(_ entry: Entry) {
        guard entry !== newest else { return }
        unlink(entry)
        entry.older = newest
        newest?.newer = entry
        newest = entry
        if oldest == nil { oldest = entry }
    }

    private func unlink(_ entry: Entry) {
        if let newer = entry.newer { newer.older = entry.older } else { newest = entry.older }
        if let older = entry.older { older.newer = entry.newer } else { oldest = entry.newer }
        entry.newer = nil
        entry.older = nil
    }

    /// The cache's bookkeeping checked against itself: O(results), for tests and fuzzers.
    func invariantViolations() -> [String] {
        var problems: [String] = []
        var listed = 0
        var total = 0
        var perFunction: [ObjectIdentifier: (entries: Int, bytes: Int)] = [:]
        var previous: Entry?
        var entry = newest
        while let current = entry {
            listed += 1
            total += current.cost
            perFunction[ObjectIdentifier(current.function), default: (0, 0)].entries += 1
            perFunction[ObjectIdentifier(current.function), default: (0, 0)].bytes += current.cost
            if current.newer !== previous { problems.append("result cache: a result's newer link is wrong") }
            if entries[current.key] !== current { problems.append("result cache: a listed result is not filed") }
            if current.cost != current.key.bytes.readableBytes + current.data.readableBytes {
                problems.append("result cache: a result's cost is not its bytes")
            }
            if listed > entries.count { break }
            previous = current
            entry = current.older
        }
        if previous !== oldest, listed <= entries.count { problems.append("result cache: the oldest result is wrong") }
        if listed != entries.count { problems.append("result cache: \(entries.count) results, \(listed) listed") }
        if total != bytes { problems.append("result cache: holds \(bytes) bytes, results take \(total)") }
        if bytes > maximumBytes { problems.append("result cache: \(bytes) bytes over a budget of \(maximumBytes)") }
        for function in [functions.values, keptFunctions.values].joined() {
            let held = perFunction[ObjectIdentifier(function)] ?? (0, 0)
            if held.entries != function.counts.entries || held.bytes != function.counts.bytes {
                problems.append(
                    "result cache: \(function.name) counts \(function.counts.entries) results of "
                        + "\(function.counts.bytes) bytes, holds \(held.entries) of \(held.bytes)")
            }
        }
        return problems
    }
}
