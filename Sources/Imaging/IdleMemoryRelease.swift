import Dispatch
import Synchronization

/// Hands freed memory back to the system once an ``ImageProcessor`` has had no image to work on for
/// ``delay``: after a burst of photos the process shrinks to what it holds, instead of keeping its peak.
/// Trimming walks every arena, so it waits for a pause rather than following each job.
final class IdleMemoryRelease: Sendable {
    private struct State {
        var running = 0
        /// Counts jobs started, so that a release scheduled before the latest one started is dropped.
        var started = 0
    }

    private let state = Mutex(State())
    let delay: DispatchTimeInterval
    private static let queue = DispatchQueue(label: "gearbox.idle-memory-release")

    init(delay: DispatchTimeInterval = .seconds(1)) {
        self.delay = delay
    }

    func jobStarted() {
        state.withLock { state in
            state.running += 1
            state.started &+= 1
        }
    }

    func jobEnded() {
        let started: Int? = state.withLock { state in
            state.running -= 1
            return state.running == 0 ? state.started : nil
        }
        guard let started else { return }
        Self.queue.asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self, self.state.withLock({ $0.running == 0 && $0.started == started }) else { return }
            ProcessMemory.releaseFreePages()
        }
    }
}
