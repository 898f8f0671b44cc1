import NIOConcurrencyHelpers
import NIOCore

/// One caller waiting on a connection: a continuation for a single reply, or a stream of job events.
/// Settled exactly once, whichever comes first: the server's answer, the connection's end, a timeout, or
/// the caller's cancellation. Compared by identity: the connection's state machine keys its callers by it.
final class PendingRequest: Sendable, Hashable {
    typealias EventContinuation = AsyncThrowingStream<GearmanJobEvent, any Error>.Continuation

    private enum Sink {
        case none
        case reply(CheckedContinuation<ClientReply, any Error>)
        case stream(EventContinuation)
        case settled
    }

    private struct State {
        var sink: Sink
        var timer: Scheduled<Void>?
        var isAcknowledged = false
    }

    let server: GearmanServerAddress
    private let state: NIOLockedValueBox<State>

    init(server: GearmanServerAddress) {
        self.server = server
        self.state = NIOLockedValueBox(State(sink: .none))
    }

    init(server: GearmanServerAddress, stream: EventContinuation) {
        self.server = server
        self.state = NIOLockedValueBox(State(sink: .stream(stream)))
    }

    static func == (lhs: PendingRequest, rhs: PendingRequest) -> Bool { lhs === rhs }

    func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }

    /// Whether the server answered anything for it (JOB_CREATED, or the reply itself).
    var isAcknowledged: Bool {
        state.withLockedValue { $0.isAcknowledged }
    }

    var isSettled: Bool {
        state.withLockedValue {
            if case .settled = $0.sink { return true }
            return false
        }
    }

    /// Returns false, and resumes the continuation with CancellationError, when the caller already cancelled.
    func install(_ continuation: CheckedContinuation<ClientReply, any Error>) -> Bool {
        let installed = state.withLockedValue {
            guard case .none = $0.sink else { return false }
            $0.sink = .reply(continuation)
            return true
        }
        if !installed {
            continuation.resume(throwing: CancellationError())
        }
        return installed
    }

    /// Keeps the timer that ends the wait, so that settling cancels it. A request already settled cancels
    /// it at once.
    func setTimer(_ timer: Scheduled<Void>) {
        let settled = state.withLockedValue {
            if case .settled = $0.sink { return true }
            $0.timer = timer
            return false
        }
        if settled { timer.cancel() }
    }

    /// Settles with CancellationError; returns whether this call did it.
    func cancel() -> Bool {
        settle(.failure(CancellationError()))
    }

    @discardableResult
    func settle(_ result: Result<ClientReply, any Error>) -> Bool {
        let previous: State? = state.withLockedValue { state in
            if case .settled = state.sink { return nil }
            defer { state = State(sink: .settled, isAcknowledged: state.isAcknowledged) }
            return state
        }
        guard let previous else { return false }
        previous.timer?.cancel()
        switch previous.sink {
        case .none, .settled:
            break
        case .reply(let continuation):
            continuation.resume(with: result)
        case .stream(let continuation):
            switch result {
            case .success(.result(let bytes)):
                continuation.yield(.complete(bytes))
                continuation.finish()
            case .success(let other):
                continuation.finish(throwing: GearmanError.protocolViolation("unexpected reply \(other)"))
            case .failure(let error):
                continuation.finish(throwing: error)
            }
        }
        return true
    }

    /// Passes a job event to a stream; single-reply callers ignore events.
    func deliver(_ event: GearmanJobEvent) {
        let continuation: EventContinuation? = state.withLockedValue {
            $0.isAcknowledged = true
            if case .stream(let continuation) = $0.sink { return continuation }
            return nil
        }
        continuation?.yield(event)
    }
}
