import NIOConcurrencyHelpers

/// Runs `body` and returns its result, or throws once `limit` has passed, whether or not `body` honours
/// cancellation: it is cancelled and left behind, so the test fails on time, under its own name, instead of
/// waiting for an await that never ends.
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String = #function, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    let work = Task { try await body() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.install(continuation)
            Task {
                race.finish(await work.result)
            }
            Task {
                try? await Task.sleep(for: limit)
                if race.finish(.failure(TestFailure("\(what) did not finish within \(limit)"))) {
                    work.cancel()
                }
            }
        }
    } onCancel: {
        work.cancel()
        race.finish(.failure(CancellationError()))
    }
}

/// The first of several outcomes to arrive resumes the waiter; later ones are dropped.
private final class Race<T: Sendable>: Sendable {
    private enum State {
        case waiting(CheckedContinuation<T, any Error>?)
        case finished(Result<T, any Error>?)
    }

    private let state = NIOLockedValueBox(State.waiting(nil))

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLockedValue { state in
            switch state {
            case .waiting:
                state = .waiting(continuation)
                return nil
            case .finished(let result):
                state = .finished(nil)
                return result
            }
        }
        if let early { continuation.resume(with: early) }
    }

    /// Returns whether this outcome was the first.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (first, continuation): (Bool, CheckedContinuation<T, any Error>?) = state.withLockedValue { state in
            switch state {
            case .waiting(let continuation):
                state = .finished(continuation == nil ? result : nil)
                return (true, continuation)
            case .finished:
                return (false, nil)
            }
        }
        continuation?.resume(with: result)
        return first
    }
}
