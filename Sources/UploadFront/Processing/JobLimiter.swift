import DequeModule
import NIOConcurrencyHelpers

/// At most `limit` holders at once; at most `maxWaiting` others wait, in arrival order, each for at most a
/// given time. A burst of uploads queues here instead of putting every image into the job server's memory
/// at once, and a burst larger than the queue is refused at once rather than left waiting without end.
public final class JobLimiter: Sendable {
    /// The queue is full, or a slot did not come in time.
    public enum Refusal: Error, Sendable, Hashable {
        case full
        case timedOut
    }

    private struct State {
        var available: Int
        var waiters: Deque<(id: Int, continuation: CheckedContinuation<Void, any Error>)> = []
        var nextID = 0
    }

    public let limit: Int
    public let maxWaiting: Int
    private let state: NIOLockedValueBox<State>

    public init(limit: Int, maxWaiting: Int = .max) {
        precondition(limit > 0, "the limit must be at least 1")
        self.limit = limit
        self.maxWaiting = max(0, maxWaiting)
        self.state = NIOLockedValueBox(State(available: limit))
    }

    /// Whether `count` more holders would find a slot or a place in the queue now.
    public func admits(_ count: Int) -> Bool {
        state.withLockedValue { state in
            max(0, count - state.available) <= maxWaiting - state.waiters.count
        }
    }

    /// Jobs running now.
    public var inUse: Int { state.withLockedValue { limit - $0.available } }
    /// Jobs waiting for a slot.
    public var waiting: Int { state.withLockedValue { $0.waiters.count } }

    /// Runs `body` holding one slot. Throws `Refusal.full` when the queue is full, `Refusal.timedOut` when no
    /// slot came within `timeout`; a task cancelled while it waits throws `CancellationError`.
    public func withSlot<T: Sendable>(timeout: Duration? = nil, _ body: () async throws -> T) async throws -> T {
        if let timeout {
            try await acquire(within: timeout)
        } else {
            try await acquire()
        }
        defer { release() }
        return try await body()
    }

    private func acquire(within timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.acquire()
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            while let result = await group.nextResult() {
                switch result {
                case .success(true):
                    return
                case .success(false):
                    // The sleeper won; the waiter is cancelled, unless it took a slot in the meantime.
                    group.cancelAll()
                    while let late = await group.nextResult() {
                        if case .success(true) = late { return }
                    }
                    throw Refusal.timedOut
                case .failure(let error):
                    if error is Refusal { throw error }
                    if Task.isCancelled { throw error }
                }
            }
            throw Refusal.timedOut
        }
    }

    private func acquire() async throws {
        let id = try state.withLockedValue { state -> Int? in
            if state.available > 0 {
                state.available -= 1
                return nil
            }
            guard state.waiters.count < maxWaiting else { throw Refusal.full }
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
