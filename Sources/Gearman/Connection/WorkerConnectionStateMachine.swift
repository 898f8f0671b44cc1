import GearmanProtocol
import NIOCore

/// The worker side of one connection to a job server, without I/O. It registers the functions, keeps up to
/// `capacity` jobs by sending several GRAB_JOB_UNIQ at once, sleeps with PRE_SLEEP when the server has
/// nothing, wakes on NOOP, and drains: no more grabs, running jobs finish, then it asks to close.
///
/// Job slots are shared by all of a worker's connections: before grabbing, the machine asks for slots
/// (`wantSlots`) and grabs as many as it is granted (`slotsGranted`); a NO_JOB gives its slot back
/// (`releaseSlots`); an assigned job keeps its slot until the job ends, which the worker releases itself.
struct WorkerConnectionStateMachine {
    struct Function: Sendable, Hashable {
        var name: String
        /// CAN_DO_TIMEOUT in milliseconds; nil for plain CAN_DO.
        var timeoutMilliseconds: UInt32?

        init(name: String, timeoutMilliseconds: UInt32? = nil) {
            self.name = name
            self.timeoutMilliseconds = timeoutMilliseconds
        }
    }

    struct AssignedJob: Sendable, Hashable {
        var handle: ByteBuffer
        var function: String
        var unique: String
        var workload: ByteBuffer
    }

    enum Outcome: Sendable, Hashable {
        case complete(ByteBuffer)
        case exception(String)
        case fail
    }

    /// What the handler does after an event, in this order: write `reply`, give back `releaseSlots`, ask for
    /// `wantSlots` (and report the grant), write `grabs` GRAB_JOB_UNIQ, write PRE_SLEEP, start `start`, close.
    struct Action: Equatable {
        var reply: GearmanRequest?
        var releaseSlots = 0
        var wantSlots = 0
        var grabs = 0
        var preSleep = false
        var start: AssignedJob?
        var close = false
        /// Why the connection closes, when the server broke the protocol.
        var violation: GearmanError?

        static let none = Action()
    }

    let capacity: Int
    let functions: [Function]
    let clientID: String?

    private(set) var running = 0
    private(set) var grabsInFlight = 0
    private(set) var isSleeping = false
    private(set) var isDraining = false
    private var batchSawNoJob = false
    private var isActive = false

    init(functions: [Function], capacity: Int, clientID: String?) {
        precondition(capacity > 0, "capacity must be at least 1")
        self.functions = functions
        self.capacity = capacity
        self.clientID = clientID
    }

    /// The packets that announce the worker, sent once the connection is up.
    var registration: [GearmanRequest] {
        var packets: [GearmanRequest] = []
        if let clientID {
            packets.append(.setClientID(ByteBuffer(string: clientID)))
        }
        for function in functions {
            if let timeout = function.timeoutMilliseconds {
                packets.append(.canDoTimeout(function: ByteBuffer(string: function.name), timeout: timeout))
            } else {
                packets.append(.canDo(function: ByteBuffer(string: function.name)))
            }
        }
        return packets
    }

    /// The connection is up; the handler writes `registration` first.
    mutating func channelActive() -> Action {
        isActive = true
        if functions.isEmpty || isDraining {
            return Action(close: isDraining)
        }
        return topUp()
    }

    /// A packet from the server. One that breaks the protocol closes the connection (`violation`).
    mutating func receive(_ response: GearmanResponse) -> Action {
        do {
            return try handle(response)
        } catch let error as GearmanError {
            return violation(error)
        } catch {
            return violation(.protocolViolation("\(error)"))
        }
    }

    /// A frame from the server could not be decoded.
    mutating func undecodable(_ error: any Error) -> Action {
        violation(.protocolViolation("the server sent a packet that cannot be decoded: \(error)"))
    }

    private mutating func violation(_ error: GearmanError) -> Action {
        isActive = false
        return Action(close: true, violation: error)
    }

    private mutating func handle(_ response: GearmanResponse) throws -> Action {
        switch response {
        case .noop:
            guard isSleeping else { return .none }
            isSleeping = false
            return isDraining ? .none : topUp()

        case .noJob:
            guard grabsInFlight > 0 else { throw GearmanError.protocolViolation("NO_JOB without GRAB_JOB") }
            grabsInFlight -= 1
            batchSawNoJob = true
            var action = afterGrabAnswered()
            action.releaseSlots += 1
            return action

        case .jobAssign(let handle, let function, let workload):
            return try assigned(
                AssignedJob(handle: handle, function: String(buffer: function), unique: "", workload: workload))
        case .jobAssignUnique(let handle, let function, let unique, let workload),
            .jobAssignAll(let handle, let function, let unique, _, let workload):
            return try assigned(
                AssignedJob(
                    handle: handle, function: String(buffer: function), unique: String(buffer: unique),
                    workload: workload))

        case .error(let code, let message):
            // gearmand answers a late WORK_* (the job timed out and went to another worker) with JOB_NOT_FOUND.
            if code == "JOB_NOT_FOUND" { return .none }
            throw GearmanError.serverError(code: code, message: message)
        case .echo, .option:
            return .none
        case .jobCreated, .workData, .workWarning, .workStatus, .workComplete, .workFail, .workException, .status,
            .statusUnique:
            throw GearmanError.protocolViolation("\(response.packetType.name) sent to a worker")
        }
    }

    /// A job's handler returned or threw.
    mutating func finished(handle: ByteBuffer, _ outcome: Outcome) -> Action {
        precondition(running > 0, "finished more jobs than were started")
        running -= 1
        var action: Action
        if isDraining {
            action = Action(close: running == 0 && grabsInFlight == 0)
        } else if !isSleeping && grabsInFlight == 0 {
            action = topUp()
        } else {
            action = .none
        }
        switch outcome {
        case .complete(let data):
            action.reply = .workComplete(handle: handle, data: data)
        case .exception(let message):
            action.reply = .workException(handle: handle, data: ByteBuffer(string: message))
        case .fail:
            action.reply = .workFail(handle: handle)
        }
        return action
    }

    /// The shared pool granted `count` of the slots asked for; 0 means none now, and `slotsAvailable` follows
    /// when some are given back.
    mutating func slotsGranted(_ count: Int) -> Action {
        guard count > 0 else { return .none }
        guard isActive, !isDraining, !isSleeping, grabsInFlight == 0, count <= capacity - running else {
            return Action(releaseSlots: count)
        }
        grabsInFlight = count
        batchSawNoJob = false
        return Action(grabs: count)
    }

    /// Slots were given back to the shared pool: ask again if this connection still wants some.
    mutating func slotsAvailable() -> Action {
        topUp()
    }

    /// The connection is gone; returns the slots held by grabs that will never be answered.
    mutating func channelInactive() -> Int {
        isActive = false
        defer { grabsInFlight = 0 }
        return grabsInFlight
    }

    /// Stop taking jobs; the connection closes once nothing is running or being grabbed.
    mutating func drain() -> Action {
        isDraining = true
        return Action(close: running == 0 && grabsInFlight == 0)
    }

    private mutating func assigned(_ job: AssignedJob) throws -> Action {
        guard grabsInFlight > 0 else { throw GearmanError.protocolViolation("JOB_ASSIGN without GRAB_JOB") }
        grabsInFlight -= 1
        running += 1
        var action = afterGrabAnswered()
        action.start = job
        return action
    }

    private mutating func afterGrabAnswered() -> Action {
        guard grabsInFlight == 0 else { return .none }
        if isDraining {
            return Action(close: running == 0)
        }
        if batchSawNoJob {
            // gearmand 1.1.20 forgets a held job's CAN_DO_TIMEOUT when its worker sends PRE_SLEEP, so with
            // such functions a connection that runs jobs grabs again when one ends instead of sleeping.
            if running > 0 && functions.contains(where: { $0.timeoutMilliseconds != nil }) {
                return .none
            }
            // The queue was empty a moment ago: sleep until the server says there is work.
            isSleeping = true
            return Action(preSleep: true)
        }
        return topUp()
    }

    private mutating func topUp() -> Action {
        let free = capacity - running
        guard isActive, !isDraining, !isSleeping, grabsInFlight == 0, free > 0 else { return .none }
        return Action(wantSlots: free)
    }
}
