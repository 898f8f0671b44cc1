import DequeModule
import GearmanProtocol
import NIOCore

/// The client side of one connection to a job server, without I/O: requests and response packets go in,
/// actions come out. Gearman has no request IDs, but a server answers a connection's requests in the order
/// they were sent, so the replies (JOB_CREATED, STATUS_RES, OPTION_RES, ECHO_RES, ERROR) are matched against a
/// FIFO of what was sent; later packets (WORK_*) name their job handle.
///
/// The machine owns the callers waiting on the connection (`Caller`: the handler's pending requests, plain
/// numbers in tests) and every action names the callers to resume or fail, so no second map can disagree.
struct ClientConnectionStateMachine<Caller: Hashable & Sendable> {
    typealias RequestID = Caller

    typealias Request = ClientRequest
    typealias Reply = ClientReply

    /// The requests waiting for one job handle: several when a unique key merged submissions.
    struct Waiters: Sendable, Hashable {
        var first: RequestID
        var others: [RequestID] = []

        var all: [RequestID] { [first] + others }

        func forEach(_ body: (RequestID) -> Void) {
            body(first)
            others.forEach(body)
        }
    }

    enum Action: Equatable {
        case none
        case write(GearmanRequest)
        /// A foreground job was accepted; the request keeps waiting.
        case created(RequestID, handle: String)
        case succeed(RequestID, Reply)
        case fail(RequestID, GearmanError)
        case event(Waiters, GearmanJobEvent)
        case finish(Waiters, Result<ByteBuffer, GearmanError>)
        /// The server broke the protocol: fail every caller still waiting, then close.
        case close([RequestID], GearmanError)
    }

    private enum Expected {
        case option
        case submit(RequestID, background: Bool)
        case status(RequestID)
        case statusUnique(RequestID)
        case echo(RequestID)
    }

    private enum Phase {
        case awaitingReply
        case running(handle: String)
    }

    private enum State {
        case idle
        case active
        case closed(GearmanError)
    }

    private var state = State.idle
    private var expected = Deque<Expected>()
    private var requests: [RequestID: Phase] = [:]
    private var waiters: [String: Waiters] = [:]
    private let server: GearmanServerAddress

    init(server: GearmanServerAddress) {
        self.server = server
    }

    /// How many requests wait for an answer.
    var inFlight: Int { requests.count }

    /// The connection is up: ask for exception messages.
    mutating func channelActive() -> Action {
        guard case .idle = state else { return .none }
        state = .active
        expected.append(.option)
        return .write(.option(ByteBuffer(string: "exceptions")))
    }

    mutating func send(_ id: RequestID, _ request: Request) -> Action {
        if case .closed(let error) = state {
            return .fail(id, error)
        }
        requests[id] = .awaitingReply
        switch request {
        case .submit(let job):
            expected.append(.submit(id, background: job.isBackground))
            return .write(.submitJob(job))
        case .status(let handle):
            expected.append(.status(id))
            return .write(.getStatus(handle: ByteBuffer(string: handle)))
        case .statusUnique(let unique):
            expected.append(.statusUnique(id))
            return .write(.getStatusUnique(unique: ByteBuffer(string: unique)))
        case .echo(let data):
            expected.append(.echo(id))
            return .write(.echo(data))
        }
    }

    /// The caller stopped waiting (cancelled or timed out). A reply still due is dropped when it arrives.
    mutating func cancel(_ id: RequestID, with error: GearmanError) -> Action {
        guard let phase = requests.removeValue(forKey: id) else { return .none }
        if case .running(let handle) = phase {
            removeWaiter(id, from: handle)
        }
        return .fail(id, error)
    }

    mutating func receive(_ response: GearmanResponse) -> Action {
        if case .closed = state { return .none }
        switch response {
        case .jobCreated(let rawHandle):
            guard case .submit(let id, let background)? = nextReplyExpected() else {
                return violation("unexpected JOB_CREATED")
            }
            guard requests[id] != nil else { return .none }
            let handle = String(buffer: rawHandle)
            if background {
                requests[id] = nil
                return .succeed(id, .created(handle: handle))
            }
            requests[id] = .running(handle: handle)
            if var existing = waiters[handle] {
                existing.others.append(id)
                waiters[handle] = existing
            } else {
                waiters[handle] = Waiters(first: id)
            }
            return .created(id, handle: handle)

        case .status(let status):
            guard case .status(let id)? = nextReplyExpected() else { return violation("unexpected STATUS_RES") }
            return succeed(id, .status(status))
        case .statusUnique(let status):
            guard case .statusUnique(let id)? = nextReplyExpected() else {
                return violation("unexpected STATUS_RES_UNIQUE")
            }
            return succeed(id, .status(status))
        case .echo(let data):
            guard case .echo(let id)? = nextReplyExpected() else { return violation("unexpected ECHO_RES") }
            return succeed(id, .echo(data))
        case .option:
            guard case .option? = expected.popFirst() else { return violation("unexpected OPTION_RES") }
            return .none
        case .error(let code, let message):
            switch expected.popFirst() {
            case .option?:
                return .none  // A server without the option sends WORK_FAIL instead of WORK_EXCEPTION.
            case .submit(let id, _)?, .status(let id)?, .statusUnique(let id)?, .echo(let id)?:
                guard requests.removeValue(forKey: id) != nil else { return .none }
                return .fail(id, .serverError(code: code, message: message))
            case nil:
                return close(.serverError(code: code, message: message))
            }

        case .workData(let handle, let data):
            return event(handle, .data(data))
        case .workWarning(let handle, let data):
            return event(handle, .warning(data))
        case .workStatus(let handle, let numerator, let denominator):
            return event(
                handle,
                .status(numerator: UInt32(buffer: numerator) ?? 0, denominator: UInt32(buffer: denominator) ?? 0))
        case .workComplete(let handle, let data):
            return finish(handle, .success(data))
        case .workFail(let rawHandle):
            let handle = String(buffer: rawHandle)
            return finish(rawHandle, .failure(.workFailed(handle: handle)))
        case .workException(let rawHandle, let data):
            let handle = String(buffer: rawHandle)
            return finish(rawHandle, .failure(.workException(handle: handle, message: String(buffer: data))))

        case .noop, .noJob, .jobAssign, .jobAssignUnique, .jobAssignAll:
            return violation("\(response.packetType.name) sent to a client")
        }
    }

    /// What a reply other than OPTION_RES answers. A server that ignores OPTION_REQ without a word (gear's,
    /// for one) sends nothing for it: a reply to a later request means that nothing will come.
    private mutating func nextReplyExpected() -> Expected? {
        if case .option? = expected.first {
            expected.removeFirst()
        }
        return expected.popFirst()
    }

    /// The connection is gone: returns every caller still waiting, and the error to fail them with.
    mutating func channelInactive() -> ([RequestID], GearmanError) {
        let error: GearmanError
        if case .closed(let reason) = state {
            error = reason
        } else {
            error = .connectionLost(server: server)
            state = .closed(error)
        }
        return (forgetAll(), error)
    }

    /// A frame from the server could not be decoded: nothing after it can be trusted to pair with a request.
    mutating func undecodable(_ error: any Error) -> Action {
        close(.protocolViolation("the server sent a packet that cannot be decoded: \(error)"))
    }

    private mutating func forgetAll() -> [RequestID] {
        let ids = Array(requests.keys)
        requests.removeAll()
        waiters.removeAll()
        expected.removeAll()
        return ids
    }

    private mutating func succeed(_ id: RequestID, _ reply: Reply) -> Action {
        guard requests.removeValue(forKey: id) != nil else { return .none }
        return .succeed(id, reply)
    }

    private func event(_ handle: ByteBuffer, _ event: GearmanJobEvent) -> Action {
        guard let found = waiters[String(buffer: handle)] else { return .none }
        return .event(found, event)
    }

    private mutating func finish(_ rawHandle: ByteBuffer, _ result: Result<ByteBuffer, GearmanError>) -> Action {
        // A merged submission may get one terminal packet per submit; the first one settles all of them.
        guard let found = waiters.removeValue(forKey: String(buffer: rawHandle)) else { return .none }
        found.forEach { requests[$0] = nil }
        return .finish(found, result)
    }

    private mutating func removeWaiter(_ id: RequestID, from handle: String) {
        guard var found = waiters[handle] else { return }
        if found.first == id {
            if found.others.isEmpty {
                waiters[handle] = nil
                return
            }
            found.first = found.others.removeFirst()
        } else {
            found.others.removeAll { $0 == id }
        }
        waiters[handle] = found
    }

    private mutating func violation(_ text: String) -> Action {
        close(.protocolViolation(text))
    }

    private mutating func close(_ error: GearmanError) -> Action {
        if case .closed = state { return .none }
        state = .closed(error)
        return .close(forgetAll(), error)
    }
}

extension UInt32 {
    init?(buffer: ByteBuffer) {
        guard let value = UInt32(String(buffer: buffer)) else { return nil }
        self = value
    }
}
