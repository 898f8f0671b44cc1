/// The clients waiting for one job's result, in the order they attached: the first kept in the job itself,
/// the others (a coalesced foreground job's) in its extras. Read-only; `Job` changes them.
struct JobWaiters: Sequence {
    let first: ConnectionID
    let more: [ConnectionID]

    var count: Int { first == .none ? 0 : 1 + more.count }

    var isEmpty: Bool { first == .none }

    func makeIterator() -> Iterator {
        Iterator(first: first, more: more.makeIterator())
    }

    struct Iterator: IteratorProtocol {
        var first: ConnectionID
        var more: IndexingIterator<[ConnectionID]>

        mutating func next() -> ConnectionID? {
            if first != .none {
                defer { first = .none }
                return first
            }
            return more.next()
        }
    }
}
