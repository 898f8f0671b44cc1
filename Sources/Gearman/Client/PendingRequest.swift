import NIOConcurrencyHelpers
import NIOCore

/// One caller waiting on a connection: a continuation for a single reply, or a stream of job events.
/// Settled exactly once, whichever comes first: the server's answer, the connection's end, a timeout, or
/// the caller's cancellation.
final class PendingRequest: @unchecked Sendable {
    typealias Reply = ClientConnectionStateMachine.Reply
    typealias EventContinuation = AsyncThrowingStream<GearmanJobEvent, any Error>.Continuation

    private enum Sink {
        case none
        case reply(CheckedContinuation<Reply, any Error>)
        case stream(EventContinuation)
        case settled
    }

    let server: GearmanServerAddress
    private let lock = NIOLock()
    private var sink: Sink

    // Owned by the connection's event loop.
    var id: UInt64 = 0
    var timer: Scheduled<Void>?

    init(server: GearmanServerAddress) {
        self.server = server
        self.sink = .none
    }

    init(server: GearmanServerAddress, stream: EventContinuation) {
        self.server = server
        self.sink = .stream(stream)
    }

    var isSettled: Bool {
        lock.withLock {
            if case .settled = sink { return true }
            return false
        }
    }

    /// Returns false, and resumes the continuation with CancellationError, when the caller already cancelled.
    func install(_ continuation: CheckedContinuation<Reply, any Error>) -> Bool {
        let installed = lock.withLock {
            guard case .none = sink else { return false }
            sink = .reply(continuation)
            return true
        }
        if !installed {
            continuation.resume(throwing: CancellationError())
        }
        return installed
    }

    /// Settles with CancellationError; returns whether this call did it.
    func cancel() -> Bool {
        settle(.failure(CancellationError()))
    }

    @discardableResult
    func settle(_ result: Result<Reply, any Error>) -> Bool {
        let previous: Sink? = lock.withLock {
            switch sink {
            case .settled:
                return nil
            case .none, .reply, .stream:
                let previous = sink
                sink = .settled
                return previous
            }
        }
        switch previous {
        case nil:
            return false
        case .none?, .settled?:
            return true
        case .reply(let continuation)?:
            continuation.resume(with: result)
            return true
        case .stream(let continuation)?:
            switch result {
            case .success(.result(let bytes)):
                continuation.yield(.complete(bytes))
                continuation.finish()
            case .success(let other):
                continuation.finish(throwing: GearmanError.protocolViolation("unexpected reply \(other)"))
            case .failure(let error):
                continuation.finish(throwing: error)
            }
            return true
        }
    }

    /// Passes a job event to a stream; single-reply callers ignore events.
    func deliver(_ event: GearmanJobEvent) {
        let continuation: EventContinuation? = lock.withLock {
            if case .stream(let continuation) = sink { return continuation }
            return nil
        }
        continuation?.yield(event)
    }
}
