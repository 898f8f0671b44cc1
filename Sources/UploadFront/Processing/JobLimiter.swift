import DequeModule
import NIOConcurrencyHelpers

/// At most `limit` holders at once; others wait in arrival order. A burst of uploads queues here instead of
/// putting every image into the job server's memory at once.
public final class JobLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: Deque<(id: Int, continuation: CheckedContinuation<Void, any Error>)> = []
        var nextID = 0
    }

    public let limit: Int
    private let state: NIOLockedValueBox<State>

    public init(limit: Int) {
        precondition(limit > 0, "the limit must be at least 1")
        self.limit = limit
        self.state = NIOLockedValueBox(State(available: limit))
    }

    /// Jobs running now.
    public var inUse: Int { state.withLockedValue { limit - $0.available } }
    /// Jobs waiting for a slot.
    public var waiting: Int { state.withLockedValue { $0.waiters.count } }

    /// Runs `body` holding one slot. A task cancelled while it waits throws `CancellationError`.
    public func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id = state.withLockedValue { state -> Int? in
            if state.available > 0 {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = state.withLockedValue { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let continuation = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            if let waiter = state.waiters.popFirst() { return waiter.continuation }
            state.available += 1
            return nil
        }
        next?.resume()
    }
}
