import DequeModule
import GearmanProtocol
import NIOCore

/// The dead letters, in the order they died: a dictionary by handle, and a deque of handles in that order
/// from which the oldest are dropped in O(1); one that left early (retried or purged, or dead again since)
/// stays in the deque until it reaches the front, where it is skipped.
struct DeadLetters {
    private(set) var byHandle: [JobHandle: DeadLetter] = [:]
    private var order = Deque<(handle: JobHandle, letter: ObjectIdentifier)>()
    /// Dead letters per function name.
    private(set) var counts: [ByteBuffer: Int] = [:]

    var count: Int { byHandle.count }

    subscript(handle: JobHandle) -> DeadLetter? { byHandle[handle] }

    mutating func add(_ letter: DeadLetter) {
        if byHandle.updateValue(letter, forKey: letter.handle) == nil {
            counts[letter.function.name, default: 0] += 1
        }
        order.append((letter.handle, ObjectIdentifier(letter)))
    }

    @discardableResult
    mutating func remove(_ handle: JobHandle) -> DeadLetter? {
        guard let letter = byHandle.removeValue(forKey: handle) else { return nil }
        let left = (counts[letter.function.name] ?? 1) - 1
        counts[letter.function.name] = left > 0 ? left : nil
        return letter
    }

    /// The oldest letter, if it died before `time` or there are more than `maximum`: removed and returned.
    mutating func removeOldest(diedBefore time: Int64, orBeyond maximum: Int) -> DeadLetter? {
        while let (handle, identity) = order.first {
            guard let letter = byHandle[handle], ObjectIdentifier(letter) == identity else {
                order.removeFirst()
                continue
            }
            guard letter.lastFailed < time || byHandle.count > maximum else { return nil }
            order.removeFirst()
            return remove(handle)
        }
        return nil
    }

    /// The `limit` letters that died last, most recent first: O(limit) and the stale places passed over.
    func mostRecent(_ limit: Int) -> [DeadLetter] {
        var letters: [DeadLetter] = []
        for (handle, identity) in order.reversed() {
            guard letters.count < limit else { break }
            if let letter = byHandle[handle], ObjectIdentifier(letter) == identity {
                letters.append(letter)
            }
        }
        return letters
    }

    /// One function's letters, or all, most recent first.
    func letters(of function: ByteBuffer?) -> [DeadLetter] {
        byHandle.values.filter { function == nil || $0.function.name == function! }
            .sorted { ($0.lastFailed, $0.handle) > ($1.lastFailed, $1.handle) }
    }
}
