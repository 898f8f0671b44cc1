import GearmanFuzzing
import GearmanProtocol
import GearmanServer
import NIOCore

/// Drives a `JobServerEngine` the way the channel layer does, from several simulated connections at once:
/// raw bytes through each connection's own frame decoder, well-formed requests and admin lines built from
/// the input (so that deep states are reached), closed connections, fired timers and a moving clock. After
/// every event the engine's bookkeeping must agree with itself (`invariantViolations()`), and every message
/// it sends must encode.
///
/// Inputs whose first byte has its top bit set drive an engine with a store attached: its writes commit or
/// fail as the input says, deletes must name rows it wrote, and at the end the rows left must be exactly the
/// jobs left, and must restore into a fresh engine.
public final class EngineFuzzer {
    private static let functionNames = ["f", "g", "h"]
    private static let uniques = ["", "-", "u1", "u2"]
    private static let maximumConnections = 6
    /// `f`'s results are kept for a minute of the moving clock, in a budget that a few of them fill.
    private static let resultCache = ResultCacheConfiguration(
        functions: ["f": .seconds(60)], keptResults: ["g": .seconds(30)], maximumBytes: 48)
    /// Retries with short backoffs, and few dead letters, so that both run out within a run; `h` has none, as
    /// every function of a server without `--retries`, so that its failed jobs die at once.
    private static let retryPolicy = RetryPolicy(
        retries: ["f": 2, "h": 0], defaultRetries: 1, minimumBackoff: .seconds(1), maximumBackoff: .seconds(8))
    private static let deadLetterPolicy = DeadLetterPolicy(retention: .seconds(200), maximumCount: 4)

    private let engine: JobServerEngine
    private let isDurable: Bool
    /// Rows asked for and not yet committed or failed.
    private var storeRequests: [(job: StoredJob, receipt: StoreReceipt)] = []
    /// Rows committed and not deleted.
    private var rows: [UInt64: StoredJob] = [:]
    /// Rows deleted while their write was still pending: the store writes, then deletes them.
    private var deletedBeforeCommit: Set<UInt64> = []
    private var open: [ConnectionID: GearmanFrameDecoder] = [:]
    private var order: [ConnectionID] = []
    private var nextConnection: UInt64 = 1
    private var timeouts: [(JobHandle, UInt32)] = []
    private var now: Int64 = 1_800_000_000
    private var input: FuzzInput
    private var scratch = ByteBuffer()

    private init(_ data: [UInt8]) {
        input = FuzzInput(data)
        isDurable = (data.first ?? 0) & 0x80 != 0
        engine = JobServerEngine(
            configuration: .init(
                jobRetries: 3, storesBackgroundJobs: isDurable, resultCache: Self.resultCache,
                retryPolicy: Self.retryPolicy, deadLetterPolicy: Self.deadLetterPolicy, reportsEvents: true))
    }

    public static func run(_ data: [UInt8]) {
        let fuzzer = EngineFuzzer(data)
        var steps = 0
        while !fuzzer.input.isExhausted, steps < 2_000 {
            fuzzer.step()
            fuzzer.check()
            steps += 1
        }
        for id in fuzzer.order {
            fuzzer.closeConnection(id)
            fuzzer.check()
        }
        precondition(fuzzer.engine.connectionCount == 0, "connections left after every one closed")
        if fuzzer.isDurable {
            fuzzer.finishStoring(failing: false)
            fuzzer.check()
            fuzzer.checkRestart()
        }
    }

    /// With no connection left, the only jobs are background ones, and each has its row, as each dead letter
    /// has its row marked dead; a fresh engine restored from the rows holds them all.
    private func checkRestart() {
        let deadRows = rows.values.filter(\.progress.isDead).count
        precondition(
            engine.jobCount == rows.count - deadRows && engine.deadLetterCount == deadRows,
            "\(engine.jobCount) jobs and \(engine.deadLetterCount) dead letters left but \(rows.count - deadRows) "
                + "rows of jobs and \(deadRows) of dead letters stored")
        let restarted = JobServerEngine(
            configuration: .init(
                jobRetries: 3, storesBackgroundJobs: true, retryPolicy: Self.retryPolicy,
                deadLetterPolicy: DeadLetterPolicy(maximumCount: .max)))
        var actions: [ServerAction] = []
        for id in rows.keys.sorted() {
            restarted.restore(rows[id]!, now: now, into: &actions)
        }
        precondition(
            restarted.jobCount == rows.count - deadRows && restarted.deadLetterCount == deadRows,
            "a restored row was lost")
        let problems = restarted.invariantViolations()
        precondition(problems.isEmpty, "restored engine inconsistent: \(problems.joined(separator: "; "))")
    }

    private func finishStoring(failing: Bool) {
        guard !storeRequests.isEmpty else { return }
        let requests = storeRequests
        storeRequests.removeAll()
        let receipts = requests.map(\.receipt)
        if failing {
            for request in requests { deletedBeforeCommit.remove(request.job.id) }
            apply { engine, actions in engine.jobsNotStored(receipts, reason: "disk full", now: now, into: &actions) }
        } else {
            for request in requests where deletedBeforeCommit.remove(request.job.id) == nil {
                rows[request.job.id] = request.job
            }
            apply { engine, actions in engine.jobsStored(receipts, now: now, into: &actions) }
        }
    }

    private func step() {
        switch input.choose(10) {
        case 0:
            openConnection()
        case 1:
            if let id = pickConnection() { closeConnection(id) }
        case 2:
            if let id = pickConnection() { feed(Array(input.chunk(upTo: 96)), to: id) }
        case 3, 4, 5:
            if let id = pickConnection() {
                apply { engine, actions in engine.handle(makeRequest(), from: id, now: now, into: &actions) }
            }
        case 6:
            if let id = pickConnection() {
                let command = GearmanAdminCommand(line: makeAdminLine())
                apply { engine, actions in engine.handle(command, from: id, now: now, into: &actions) }
            }
        case 7:
            if !timeouts.isEmpty {
                let (handle, attempt) = timeouts.remove(at: input.choose(timeouts.count))
                apply { engine, actions in engine.jobTimedOut(handle, attempt: attempt, now: now, into: &actions) }
            }
        default:
            now += Int64(input.byte())
            apply { engine, actions in engine.releaseDueJobs(now: now, into: &actions) }
            if isDurable {
                finishStoring(failing: input.choose(4) == 0)
                groupEvent()
            }
        }
    }

    /// What a shared store reports now and then: a renewed lease (perhaps already past), jobs adopted from
    /// a dead server, or this server's jobs adopted by another.
    private func groupEvent() {
        switch input.choose(16) {
        case 0, 1:
            let heldUntil = now + Int64(input.byte()) - 128
            apply { engine, actions in engine.leaseRenewed(heldUntil: heldUntil, into: &actions) }
        case 2:
            let count = 1 + input.choose(4)
            let first = engine.reserveHandles(count)
            let adopted = (0..<count).map { index in
                StoredJob(
                    id: first + UInt64(index), function: function(),
                    unique: bytes(Self.uniques[input.choose(Self.uniques.count)]),
                    priority: GearmanPriority(rawValue: input.choose(3))!, epoch: input.choose(4) == 0 ? now + 5 : nil,
                    reducer: nil, workload: workload())
            }
            for job in adopted {
                rows[job.id] = job
            }
            apply { engine, actions in
                for job in adopted {
                    engine.restore(job, now: now, into: &actions)
                }
            }
        case 3:
            // The adopter has the rows now; none may be deleted here any more.
            rows.removeAll()
            apply { engine, actions in engine.storedJobsLost(into: &actions) }
        default:
            break
        }
    }

    private func check() {
        let problems = engine.invariantViolations()
        precondition(problems.isEmpty, "engine inconsistent: \(problems.joined(separator: "; "))")
    }

    // MARK: Connections

    private func openConnection() {
        guard open.count < Self.maximumConnections else { return }
        let id = ConnectionID(nextConnection)
        nextConnection += 1
        open[id] = GearmanFrameDecoder(maximumPacketSize: 4096, maximumAdminLineLength: 256)
        order.append(id)
        engine.connectionOpened(id, host: "127.0.0.1", mayChangeState: input.byte() & 1 == 0)
    }

    private func pickConnection() -> ConnectionID? {
        if order.isEmpty { openConnection() }
        return order.isEmpty ? nil : order[input.choose(order.count)]
    }

    private func closeConnection(_ id: ConnectionID) {
        guard open.removeValue(forKey: id) != nil else { return }
        order.removeAll { $0 == id }
        apply { engine, actions in engine.connectionClosed(id, now: now, into: &actions) }
    }

    private func feed(_ bytes: [UInt8], to id: ConnectionID) {
        guard var decoder = open[id] else { return }
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [GearmanFrame] = []
        var failure: GearmanProtocolError?
        do {
            while let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
        } catch let error as GearmanProtocolError {
            failure = error
        } catch {
            fatalError("the frame decoder threw \(error)")
        }
        open[id] = decoder
        for frame in frames where open[id] != nil {
            switch frame {
            case .adminLine(let line):
                apply { engine, actions in
                    engine.handle(GearmanAdminCommand(line: line), from: id, now: now, into: &actions)
                }
            case .packet(let packet):
                do {
                    let request = try GearmanRequest(packet: packet)
                    apply { engine, actions in engine.handle(request, from: id, now: now, into: &actions) }
                } catch let error as GearmanProtocolError {
                    apply { engine, actions in engine.protocolError(error, from: id, into: &actions) }
                } catch {
                    fatalError("request decoding threw \(error)")
                }
            }
        }
        if let failure, open[id] != nil {
            apply { engine, actions in engine.protocolError(failure, from: id, into: &actions) }
        }
    }

    /// Applies one event and performs its actions as the channel layer would.
    private func apply(_ event: (JobServerEngine, inout [ServerAction]) -> Void) {
        var actions: [ServerAction] = []
        event(engine, &actions)
        var closing: [ConnectionID] = []
        for action in actions {
            switch action {
            case .send(let target, let message):
                precondition(engine.knows(target), "message for unknown connection \(target)")
                scratch.clear()
                message.encode(into: &scratch, handles: engine.handleFormat)
            case .close(let id):
                closing.append(id)
            case .startJobTimeout(let handle, let attempt, _):
                timeouts.append((handle, attempt))
            case .scheduleEpochWakeup, .shutdown, .event:
                break
            case .update(let job):
                if rows[job.id] != nil {
                    rows[job.id] = job
                } else if let index = storeRequests.firstIndex(where: { $0.job.id == job.id }) {
                    storeRequests[index].job = job
                } else {
                    preconditionFailure("updating row \(job.id), which was never written")
                }
            case .store(let job, let receipt):
                precondition(isDurable, "a store action from an engine without a store")
                precondition(job.id == receipt.handle.number, "a receipt for another job")
                storeRequests.append((job, receipt))
            case .forget(let handle):
                if rows.removeValue(forKey: handle.number) == nil {
                    precondition(
                        storeRequests.contains { $0.job.id == handle.number },
                        "deleting row \(handle.number), which was never written")
                    deletedBeforeCommit.insert(handle.number)
                }
            }
        }
        for id in closing {
            closeConnection(id)
        }
    }

    // MARK: Well-formed input

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func function() -> ByteBuffer { bytes(Self.functionNames[input.choose(Self.functionNames.count)]) }

    private func handle() -> ByteBuffer {
        let number = UInt64(input.choose(24))
        return bytes(engine.handleFormat.string(for: JobHandle(number)))
    }

    private func workload() -> ByteBuffer { ByteBuffer(bytes: input.chunk(upTo: 8)) }

    private func makeRequest() -> GearmanRequest {
        let priorities: [GearmanPriority] = [.high, .normal, .low]
        switch input.choose(19) {
        case 0, 1, 2:
            return .submitJob(
                GearmanSubmitJob(
                    function: function(), unique: bytes(Self.uniques[input.choose(Self.uniques.count)]),
                    workload: workload(), priority: priorities[input.choose(3)], isBackground: input.byte() & 1 == 0))
        case 3:
            let epoch = now + Int64(input.byte()) - 64
            return .submitJob(
                GearmanSubmitJob(function: function(), unique: bytes(""), workload: workload(), epoch: epoch))
        case 4:
            return .submitJob(
                GearmanSubmitJob(
                    function: function(), unique: bytes(Self.uniques[input.choose(Self.uniques.count)]),
                    workload: workload(), isBackground: input.byte() & 1 == 0, reducer: bytes("r")))
        case 5, 6:
            return .grabJob([GearmanGrabMode.plain, .unique, .all][input.choose(3)])
        case 7:
            return .preSleep
        case 8, 9:
            return .canDo(function: function())
        case 10:
            return .canDoTimeout(function: function(), timeout: UInt32(input.byte()))
        case 11:
            return input.byte() & 1 == 0 ? .cantDo(function: function()) : .resetAbilities
        case 12, 13:
            return .workComplete(handle: handle(), data: workload())
        case 14:
            return input.byte() & 1 == 0
                ? .workFail(handle: handle()) : .workException(handle: handle(), data: workload())
        case 15:
            return .workStatus(handle: handle(), numerator: workload(), denominator: workload())
        case 16:
            return input.byte() & 1 == 0
                ? .workData(handle: handle(), data: workload()) : .workWarning(handle: handle(), data: workload())
        case 17:
            return input.byte() & 1 == 0
                ? .getStatus(handle: handle()) : .getStatusUnique(unique: bytes(Self.uniques[input.choose(4)]))
        default:
            return [
                .option(bytes("exceptions")), .option(workload()), .echo(workload()), .setClientID(workload()),
                .allYours,
            ][input.choose(5)]
        }
    }

    private func makeAdminLine() -> String {
        let function = Self.functionNames[input.choose(Self.functionNames.count)]
        let handle = engine.handleFormat.string(for: JobHandle(UInt64(input.choose(24))))
        let number = String(Int(input.byte()) - 16)
        return [
            "status", "workers", "prioritystatus", "show jobs", "show unique jobs", "cancel job \(handle)",
            "maxqueue \(function) \(number)", "maxqueue \(function) \(number) \(number) \(number)",
            "create function \(function)", "drop function \(function)", "getpid", "version", "verbose",
            "shutdown graceful", "dead", "dead \(function)", "retry dead \(function)",
            "retry dead \(function) \(handle)", "purge dead \(function) \(handle)",
        ][input.choose(19)]
    }
}
