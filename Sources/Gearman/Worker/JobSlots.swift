import NIOConcurrencyHelpers

/// The `concurrency` of a worker, shared by its server connections: a connection takes a slot for every
/// GRAB_JOB it sends, gives it back on NO_JOB, and a job gives its slot back when it ends.
final class JobSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [@Sendable () -> Void] = []
        var isClosed = false
    }

    private let state: NIOLockedValueBox<State>

    init(_ count: Int) {
        state = NIOLockedValueBox(State(free: count))
    }

    var free: Int { state.withLockedValue { $0.free } }

    /// Takes up to `count` slots. When none is free, `onRelease` runs once some are given back.
    /// Once closed, grants none.
    func acquire(upTo count: Int, onRelease: @escaping @Sendable () -> Void) -> Int {
        state.withLockedValue { state in
            guard !state.isClosed else { return 0 }
            let granted = min(count, state.free)
            state.free -= granted
            if granted == 0 {
                state.waiters.append(onRelease)
            }
            return granted
        }
    }

    /// Grants no more slots, from the moment it returns: a stopping worker sends no GRAB_JOB after this,
    /// whichever connection's loop would have sent it.
    func close() {
        state.withLockedValue { state in
            state.isClosed = true
            state.waiters.removeAll()
        }
    }

    func release(_ count: Int) {
        guard count > 0 else { return }
        let waiters = state.withLockedValue { state in
            state.free += count
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter()
        }
    }
}
