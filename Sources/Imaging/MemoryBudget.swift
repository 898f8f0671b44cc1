import DequeModule
import Synchronization

/// The bytes of image memory an ``ImageProcessor``'s jobs may hold at once. A job reserves what it is
/// estimated to need (``ImageMemoryEstimate``) before it is handed to a thread, and gives it back when it
/// ends; one that does not fit waits, in order of arrival, so that a large job is not passed over for ever by
/// small ones. A job estimated at more than the whole budget waits until it can run alone.
///
/// Threads bound how many images are decoded at once, but not what they cost: one AVIF encode of a
/// 3200x2400 box holds about 150 MB where a 500-pixel JPEG holds a few, so two of the former at once set a
/// process's peak.
final class MemoryBudget: Sendable {
    private struct Waiter {
        var id: Int
        var bytes: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiting = Deque<Waiter>()
        var nextID = 0

        /// Resumes the waiters at the head of the line that now fit.
        mutating func admitted() -> [CheckedContinuation<Void, any Error>] {
            var admitted: [CheckedContinuation<Void, any Error>] = []
            while let first = waiting.first, first.bytes <= available {
                available -= first.bytes
                admitted.append(waiting.removeFirst().continuation)
            }
            return admitted
        }
    }

    let bytes: Int
    private let state: Mutex<State>

    init(bytes: Int) {
        self.bytes = max(1, bytes)
        state = Mutex(State(available: self.bytes))
    }

    /// Bytes reserved now, of ``bytes``.
    var reserved: Int { bytes - state.withLock { $0.available } }

    /// Reservations waiting for memory now.
    var waiting: Int { state.withLock { $0.waiting.count } }

    /// Waits until `wanted` bytes (at most the whole budget) are free and takes them; returns what was taken,
    /// to be given back to ``release(_:)``. Throws `CancellationError` if the task is cancelled while it waits.
    func reserve(_ wanted: Int) async throws -> Int {
        let bytes = min(max(0, wanted), self.bytes)
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enqueue(Waiter(id: id, bytes: bytes, continuation: continuation))
            }
        } onCancel: {
            cancel(id)
        }
        return bytes
    }

    func release(_ bytes: Int) {
        let admitted = state.withLock { state in
            state.available += bytes
            return state.admitted()
        }
        admitted.forEach { $0.resume() }
    }

    private func enqueue(_ waiter: Waiter) {
        // Checked under the lock: a cancellation handler that ran before the append found nothing to remove,
        // and the flag it follows is already set.
        let cancelled = state.withLock { state -> Bool in
            if Task.isCancelled { return true }
            state.waiting.append(waiter)
            return false
        }
        if cancelled {
            waiter.continuation.resume(throwing: CancellationError())
            return
        }
        let admitted = state.withLock { $0.admitted() }
        admitted.forEach { $0.resume() }
    }

    private func cancel(_ id: Int) {
        let removed = state.withLock { state -> Waiter? in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiting.remove(at: index)
        }
        removed?.continuation.resume(throwing: CancellationError())
        let admitted = state.withLock { $0.admitted() }
        admitted.forEach { $0.resume() }
    }
}
