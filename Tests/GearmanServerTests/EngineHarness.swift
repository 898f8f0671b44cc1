import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

/// Drives a `JobServerEngine` as connections would, and decodes what it answers.
final class EngineHarness {
    let engine: JobServerEngine
    private var nextID: UInt64 = 1
    var now: Int64 = 1_800_000_000
    /// Actions that were not sends, in order.
    private(set) var otherActions: [ServerAction] = []
    /// Messages per connection not yet taken.
    private var inbox: [ConnectionID: [GearmanResponse]] = [:]
    private var adminInbox: [ConnectionID: [String]] = [:]
    private(set) var closed: Set<ConnectionID> = []

    init(
        jobRetries: Int = 0, storesBackgroundJobs: Bool = false, resultCache: ResultCacheConfiguration? = nil,
        retryPolicy: RetryPolicy = RetryPolicy(), deadLetterPolicy: DeadLetterPolicy = DeadLetterPolicy(),
        reportsEvents: Bool = false
    ) {
        engine = JobServerEngine(
            configuration: .init(
                jobRetries: jobRetries, handlePrefix: "test", processID: 4242,
                storesBackgroundJobs: storesBackgroundJobs, resultCache: resultCache, retryPolicy: retryPolicy,
                deadLetterPolicy: deadLetterPolicy, reportsEvents: reportsEvents))
    }

    func connect(host: String = "127.0.0.1") -> ConnectionID {
        let id = ConnectionID(nextID)
        nextID += 1
        engine.connectionOpened(id, host: host, mayChangeState: host.hasPrefix("127."))
        return id
    }

    func send(_ request: GearmanRequest, from id: ConnectionID) {
        var actions: [ServerAction] = []
        engine.handle(request, from: id, now: now, into: &actions)
        absorb(actions)
    }

    /// Applies `request` as the server's channel does: encoded, framed and handed to the engine as a packet,
    /// a packet the engine refuses answered with its protocol error.
    func sendAsPacket(_ request: GearmanRequest, from id: ConnectionID) {
        var bytes = ByteBuffer()
        request.encode(into: &bytes)
        var decoder = GearmanFrameDecoder()
        guard case .packet(let packet)? = try! decoder.decode(buffer: &bytes) else { fatalError("one packet expected") }
        send(packet, from: id)
    }

    func send(_ packet: GearmanPacket, from id: ConnectionID) {
        var actions: [ServerAction] = []
        do {
            try engine.handle(packet, from: id, now: now, into: &actions)
        } catch let error as GearmanProtocolError {
            engine.protocolError(error, from: id, into: &actions)
        } catch {
            Issue.record("the engine threw \(error)")
        }
        absorb(actions)
    }

    func admin(_ line: String, from id: ConnectionID) -> String {
        var actions: [ServerAction] = []
        engine.handle(GearmanAdminCommand(line: line), from: id, now: now, into: &actions)
        absorb(actions)
        return adminInbox.removeValue(forKey: id)?.joined() ?? ""
    }

    func disconnect(_ id: ConnectionID) {
        var actions: [ServerAction] = []
        engine.connectionClosed(id, now: now, into: &actions)
        absorb(actions)
        inbox[id] = nil
    }

    func timeOut(_ handle: JobHandle, attempt: UInt32) {
        var actions: [ServerAction] = []
        engine.jobTimedOut(handle, attempt: attempt, now: now, into: &actions)
        absorb(actions)
    }

    func releaseDueJobs() {
        var actions: [ServerAction] = []
        engine.releaseDueJobs(now: now, into: &actions)
        absorb(actions)
    }

    /// The rows the engine asked to write since the last call, in order; other actions stay.
    func takeStoreRequests() -> [StoredJob] {
        takeStoreReceipts().map(\.job)
    }

    private func takeStoreReceipts() -> [(job: StoredJob, receipt: StoreReceipt)] {
        var stored: [(job: StoredJob, receipt: StoreReceipt)] = []
        otherActions.removeAll { action in
            guard case .store(let job, let receipt) = action else { return false }
            stored.append((job, receipt))
            return true
        }
        return stored
    }

    /// The rows the engine asked to delete since the last call; other actions stay.
    func takeDeletes() -> [UInt64] {
        var deleted: [UInt64] = []
        otherActions.removeAll { action in
            guard case .forget(let handle) = action else { return false }
            deleted.append(handle.number)
            return true
        }
        return deleted
    }

    /// Commits every row asked for so far, as the store writer reports a transaction.
    @discardableResult
    func commitStore() -> [StoredJob] {
        let stored = takeStoreReceipts()
        var actions: [ServerAction] = []
        engine.jobsStored(stored.map(\.receipt), now: now, into: &actions)
        absorb(actions)
        return stored.map(\.job)
    }

    /// Fails every row asked for so far, as a full disk would.
    func failStore(_ reason: String) {
        let stored = takeStoreReceipts()
        var actions: [ServerAction] = []
        engine.jobsNotStored(stored.map(\.receipt), reason: reason, now: now, into: &actions)
        absorb(actions)
    }

    func restore(_ jobs: [StoredJob]) {
        var actions: [ServerAction] = []
        for job in jobs {
            engine.restore(job, now: now, into: &actions)
        }
        absorb(actions)
    }

    func leaseRenewed(heldUntil: Int64) {
        var actions: [ServerAction] = []
        engine.leaseRenewed(heldUntil: heldUntil, into: &actions)
        absorb(actions)
    }

    func storedJobsLost() {
        var actions: [ServerAction] = []
        engine.storedJobsLost(into: &actions)
        absorb(actions)
    }

    func protocolError(_ error: GearmanProtocolError, from id: ConnectionID) {
        var actions: [ServerAction] = []
        engine.protocolError(error, from: id, into: &actions)
        absorb(actions)
    }

    /// Everything sent to `id` since the last call, decoded as a client or worker would decode it.
    func take(_ id: ConnectionID) -> [GearmanResponse] {
        inbox.removeValue(forKey: id) ?? []
    }

    func takeOtherActions() -> [ServerAction] {
        defer { otherActions.removeAll() }
        return otherActions
    }

    /// Every event ends here: the engine's bookkeeping must agree with itself after each one, and nothing may
    /// be sent to a connection it has forgotten.
    private func absorb(_ actions: [ServerAction], sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = engine.invariantViolations()
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        for action in actions {
            if case .send(let id, _) = action {
                #expect(
                    engine.knows(id), "a message for connection \(id), which is closed", sourceLocation: sourceLocation)
            }
            switch action {
            case .send(let id, .admin(let reply)):
                adminInbox[id, default: []].append(reply.text)
            case .send(let id, let message) where message.isFilledInByChannel:
                var buffer = ByteBuffer()
                message.encode(into: &buffer, handles: engine.handleFormat)
                adminInbox[id, default: []].append(String(buffer: buffer))
            case .send(let id, let message):
                var buffer = ByteBuffer()
                message.encode(into: &buffer, handles: engine.handleFormat)
                var decoder = GearmanFrameDecoder()
                while let frame = try! decoder.decode(buffer: &buffer) {
                    guard case .packet(let packet) = frame else { fatalError("binary message expected") }
                    inbox[id, default: []].append(try! GearmanResponse(packet: packet))
                }
            case .close(let id):
                closed.insert(id)
            default:
                otherActions.append(action)
            }
        }
    }

    // MARK: Conveniences

    func submit(
        _ function: String, _ workload: String = "w", unique: String = "", priority: GearmanPriority = .normal,
        background: Bool = false, epoch: Int64? = nil, reducer: String? = nil, from client: ConnectionID
    ) -> ByteBuffer? {
        send(
            .submitJob(
                GearmanSubmitJob(
                    function: ByteBuffer(string: function), unique: ByteBuffer(string: unique),
                    workload: ByteBuffer(string: workload), priority: priority, isBackground: background, epoch: epoch,
                    reducer: reducer.map { ByteBuffer(string: $0) })),
            from: client)
        for response in take(client) {
            if case .jobCreated(let handle) = response { return handle }
        }
        return nil
    }

    func worker(_ functions: String..., clientID: String? = nil) -> ConnectionID {
        let id = connect()
        for function in functions {
            send(.canDo(function: ByteBuffer(string: function)), from: id)
        }
        if let clientID {
            send(.setClientID(ByteBuffer(string: clientID)), from: id)
        }
        return id
    }

    /// GRAB_JOB_UNIQ; the assigned job as (handle, function, workload), or nil for NO_JOB.
    func grab(_ worker: ConnectionID, mode: GearmanGrabMode = .unique) -> (
        handle: ByteBuffer, function: String, workload: String
    )? {
        send(.grabJob(mode), from: worker)
        let responses = take(worker)
        for response in responses {
            switch response {
            case .jobAssign(let handle, let function, let workload),
                .jobAssignUnique(let handle, let function, _, let workload),
                .jobAssignAll(let handle, let function, _, _, let workload):
                return (handle, String(buffer: function), String(buffer: workload))
            case .noJob:
                return nil
            default:
                continue
            }
        }
        return nil
    }

    func complete(_ handle: ByteBuffer, _ result: String, from worker: ConnectionID) {
        send(.workComplete(handle: handle, data: ByteBuffer(string: result)), from: worker)
    }
}

extension ByteBuffer {
    var string: String { String(buffer: self) }
}

extension ServerMessage {
    /// The admin tables that the channel layer fills in from the store's writer.
    fileprivate var isFilledInByChannel: Bool {
        switch self {
        case .storeStatus, .storeGroupStatus: true
        default: false
        }
    }
}
