import NIOConcurrencyHelpers

/// A point tasks wait at until the test opens it, or until a given number of them have arrived; once open it
/// stays open. A test that needs "a job is running and cannot finish yet" holds its worker here instead of
/// guessing how long a sleep must be, and one that means "these jobs run at once" lets none finish until all
/// of them have started.
public final class Gate: Sendable {
    private struct State: Sendable {
        var isOpen = false
        var arrivals = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    private let opensAfter: Int?

    /// - Parameter arrivals: opens by itself when this many tasks have arrived; without it, only `open()` does.
    public init(opensAfter arrivals: Int? = nil) {
        opensAfter = arrivals
    }

    /// Tasks that have arrived at the gate so far, whether or not they are still waiting.
    public var arrivals: Int { state.withLockedValue { $0.arrivals } }

    /// Returns once the gate is open.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.arrivals += 1
                if let opensAfter, state.arrivals >= opensAfter { state.isOpen = true }
                guard state.isOpen else {
                    state.waiters.append(continuation)
                    return []
                }
                defer { state.waiters = [] }
                return state.waiters + [continuation]
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    public func open() {
        let waiters = state.withLockedValue { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
