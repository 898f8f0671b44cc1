import GearmanProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Shares one `JobServerEngine` between all connections, on any number of event loops.
///
/// Events are applied under a lock and the resulting actions computed there; the bytes are written after the
/// lock is released, each on the event loop of the connection it is for.
/// Unchecked: the engine is a non-Sendable class, so `NIOLockedValueBox` cannot hold it, and `Mutex` (macOS
/// 15) hands its value out as `sending`, which the engine cannot be while a connection's events run against
/// it; every field but the timer is read and written under `lock`, the timer on `timerLoop` only.
final class ServerCore: @unchecked Sendable {
    private let lock = NIOLock()
    private let engine: JobServerEngine
    @exclusivity(unchecked) private var connections: [ConnectionID: PeerConnection] = [:]
    private var flushers: [LoopFlusher] = []
    private var nextConnectionID: UInt64 = 1
    private var epochTimer: Scheduled<Void>?
    private let timerLoop: any EventLoop
    private let shutdownRequested: @Sendable (Bool) -> Void
    let handleFormat: JobHandleFormat
    let logger: Logger
    /// Writes background jobs to the durable store; nil keeps them in memory only.
    let storeWriter: StoreWriter?
    /// Where background jobs' events go (`--webhook`); called outside the lock, and must not block. With a
    /// store, the events pass through its outbox first.
    let jobEvents: (@Sendable (PendingJobEvent) -> Void)?
    /// Unix time the server started, for the dashboard.
    let started = ServerCore.now()

    init(
        engine: JobServerEngine, timerLoop: any EventLoop, logger: Logger, storeWriter: StoreWriter? = nil,
        jobEvents: (@Sendable (PendingJobEvent) -> Void)? = nil,
        shutdownRequested: @escaping @Sendable (Bool) -> Void
    ) {
        self.engine = engine
        self.jobEvents = jobEvents
        self.storeWriter = storeWriter
        self.handleFormat = engine.handleFormat
        self.timerLoop = timerLoop
        self.logger = logger
        self.shutdownRequested = shutdownRequested
    }

    /// A message for a connection other than the one whose event produced it.
    struct Delivery: Sendable {
        let peer: PeerConnection
        let message: ServerMessage
    }

    /// The flusher of `eventLoop`, made the first time a connection on it asks.
    func flusher(for eventLoop: any EventLoop) -> LoopFlusher {
        lock.withLock {
            if let flusher = flushers.first(where: { $0.eventLoop === eventLoop }) {
                return flusher
            }
            let flusher = LoopFlusher(eventLoop: eventLoop, index: flushers.count)
            flushers.append(flusher)
            return flusher
        }
    }

    func register(_ connection: PeerConnection, host: String, mayChangeState: Bool) -> ConnectionID {
        lock.withLock {
            let id = ConnectionID(nextConnectionID)
            nextConnectionID += 1
            connections[id] = connection
            engine.connectionOpened(id, host: host, mayChangeState: mayChangeState)
            return id
        }
    }

    /// The connection that the message at `index` of an event's actions goes to, for each message to a
    /// connection other than the one whose event it was. The actions stay where they are: moving them
    /// copies large enums, which profiling showed as a large share of a job's cost.
    struct Peer {
        let index: Int
        let connection: PeerConnection
    }

    /// Applies one event, hands its store actions to the writer and finds the connections its messages to
    /// others go to.
    func process(
        from origin: ConnectionID?,
        actions: inout [ServerAction],
        peers: inout [Peer],
        _ event: (JobServerEngine, inout [ServerAction]) -> Void
    ) {
        let wakeStoreWriter = lock.withLock { () -> Bool in
            event(engine, &actions)
            // Handed over in the lock, so that the store sees one job's write before its delete.
            var wake = false
            if let storeWriter, actions.containsStoreAction {
                wake = storeWriter.enqueue(actions)
            }
            // A store's acknowledgements come in runs for one connection: one lookup per run.
            var lastTarget: ConnectionID?
            var lastPeer: PeerConnection?
            for index in actions.indices {
                guard case .send(let target, _) = actions[index], target != origin else { continue }
                if target != lastTarget {
                    lastTarget = target
                    lastPeer = connections[target]
                }
                if let lastPeer {
                    peers.append(Peer(index: index, connection: lastPeer))
                }
            }
            return wake
        }
        if wakeStoreWriter {
            storeWriter?.wake()
        }
    }

    /// Applies an event from outside the Gearman connections (the operator's API) and delivers its messages.
    func applyDetached(_ event: (JobServerEngine, inout [ServerAction]) -> Void) {
        processDetached(event)
    }

    /// Applies an event that no connection's read brought (a timer, the store, a connection's end) and
    /// delivers its messages.
    private func processDetached(
        from origin: ConnectionID? = nil, _ event: (JobServerEngine, inout [ServerAction]) -> Void
    ) {
        var actions: [ServerAction] = []
        var peers: [Peer] = []
        process(from: origin, actions: &actions, peers: &peers, event)
        Self.deliverNow(
            peers.map { peer -> Delivery in
                guard case .send(_, let message) = actions[peer.index] else {
                    preconditionFailure("a peer without a message")
                }
                return Delivery(peer: peer.connection, message: message)
            })
        performDetached(actions)
    }

    func identified(_ id: ConnectionID, commonName: String, grantsAdministration: Bool) {
        lock.withLock {
            engine.certificateIdentified(id, commonName: commonName)
            if grantsAdministration {
                engine.administrationGranted(to: id)
            }
        }
    }

    func unregister(_ id: ConnectionID) {
        processDetached(from: id) { engine, actions in
            engine.connectionClosed(id, now: Self.now(), into: &actions)
        }
        lock.withLock { _ = connections.removeValue(forKey: id) }
    }

    /// Performs actions that belong to no connection's read: timers, shutdown, epoch wake-ups.
    func performDetached(_ actions: [ServerAction]) {
        for action in actions {
            switch action {
            case .scheduleEpochWakeup(let epoch):
                scheduleEpochWakeup(at: epoch)
            case .shutdown(let graceful):
                shutdownRequested(graceful)
            case .event(let event):
                // With a store, the event reaches the hooks once its transaction commits (`storeFinished`).
                if storeWriter?.keepsEvents != true {
                    jobEvents?(PendingJobEvent(event))
                }
            case .send, .close, .startJobTimeout:
                break  // a connection's, delivered by `processDetached` or its handler
            case .store, .forget, .update:
                break  // taken by `process`
            }
        }
    }

    /// Writes each delivery on its connection's loop and flushes it: one hop per loop, one flush per
    /// connection. Used outside read batches.
    static func deliverNow(_ deliveries: [Delivery]) {
        guard !deliveries.isEmpty else { return }
        // A handful of loops: a linear search beats hashing each delivery.
        var byLoop: [(loop: any EventLoop, deliveries: [Delivery])] = []
        for delivery in deliveries {
            let loop = delivery.peer.eventLoop
            if let index = byLoop.firstIndex(where: { $0.loop === loop }) {
                byLoop[index].deliveries.append(delivery)
            } else {
                byLoop.append((loop, [delivery]))
            }
        }
        for (loop, batch) in byLoop {
            if loop.inEventLoop {
                deliver(batch)
            } else {
                loop.execute { deliver(batch) }
            }
        }
    }

    private static func deliver(_ batch: [Delivery]) {
        for delivery in batch {
            delivery.peer.handler.value.enqueue(delivery.message)
        }
        for delivery in batch {
            delivery.peer.handler.value.flushIfNeeded()
        }
    }

    // MARK: Store

    /// Puts jobs read back from the store, or adopted from a dead server of the group, into the engine.
    func restore(_ stored: [StoredJob]) {
        let now = Self.now()
        processDetached { engine, actions in
            for job in stored {
                engine.restore(job, now: now, into: &actions)
            }
        }
    }

    /// What a shared store asks of the engine while it keeps this server's lease.
    var storeGroupDelegate: StoreGroupDelegate {
        StoreGroupDelegate(
            reserveHandles: { [self] count in lock.withLock { engine.reserveHandles(count) } },
            adopt: { [self] jobs in restore(jobs) },
            leaseRenewed: { [self] heldUntil in
                processDetached { engine, actions in engine.leaseRenewed(heldUntil: heldUntil, into: &actions) }
            },
            lostStoredJobs: { [self] in
                processDetached { engine, actions in engine.storedJobsLost(into: &actions) }
            },
            wantsCounts: { [self] in lock.withLock { engine.takeGroupCountsRequest() } },
            observed: { [self] status in
                // Counts no longer asked for go, rather than linger in `status` as if they were current.
                lock.withLock { engine.groupCounted(queuedElsewhere: status.queuedElsewhere ?? [:]) }
            })
    }

    /// Hands events that the store's outbox holds to the hooks; each is deleted from it once delivered.
    func handOver(_ events: [StoredJobEvent]) {
        guard let jobEvents, let storeWriter else { return }
        for stored in events {
            let id = stored.id
            jobEvents(PendingJobEvent(stored.event) { storeWriter.eventDelivered(id) })
        }
    }

    /// A store transaction ended: acknowledge (or refuse) its jobs and queue them, and hand its events over.
    func storeFinished(_ outcome: StoreWriter.Outcome) {
        handOver(outcome.events)
        guard !outcome.stored.isEmpty || !outcome.notStored.isEmpty else { return }
        let now = Self.now()
        processDetached { engine, actions in
            if !outcome.stored.isEmpty {
                engine.jobsStored(outcome.stored, now: now, into: &actions)
            }
            if !outcome.notStored.isEmpty {
                engine.jobsNotStored(
                    outcome.notStored, reason: outcome.failure ?? "the store failed", now: now, into: &actions)
            }
        }
    }

    func jobTimedOut(_ handle: JobHandle, attempt: UInt32) {
        processDetached { engine, actions in
            engine.jobTimedOut(handle, attempt: attempt, now: Self.now(), into: &actions)
        }
    }

    func scheduleEpochWakeup(at epoch: Int64) {
        timerLoop.execute { [self] in
            epochTimer?.cancel()
            epochTimer = timerLoop.scheduleTask(in: Self.delay(until: epoch)) { [self] in
                releaseDueJobs()
            }
        }
    }

    /// How long until `epoch`, at most a day: a wake-up that comes early finds nothing due and asks again.
    static func delay(until epoch: Int64, now: Int64 = nowNanoseconds()) -> TimeAmount {
        let day: Int64 = 86_400
        let (seconds, overflow) = epoch.subtractingReportingOverflow(now / 1_000_000_000)
        if overflow { return epoch < 0 ? .zero : .seconds(day) }
        guard seconds > 0 else { return .zero }
        guard seconds < day else { return .seconds(day) }
        return .nanoseconds(seconds * 1_000_000_000 - now % 1_000_000_000)
    }

    private func releaseDueJobs() {
        let now = Self.now()
        processDetached { engine, actions in
            engine.releaseDueJobs(now: now, into: &actions)
        }
    }

    /// Runs a read-only look at the engine, for the service's shutdown decisions and tests.
    func inspect<Result>(_ body: (JobServerEngine) -> Result) -> Result {
        lock.withLock { body(engine) }
    }

    func closeAllConnections() {
        let all = lock.withLock { Array(connections.values) }
        for connection in all {
            connection.eventLoop.execute { connection.handler.value.close() }
        }
    }

    static func now() -> Int64 {
        nowNanoseconds() / 1_000_000_000
    }

    static func nowNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

extension Array where Element == ServerAction {
    /// Whether an action from `start` on closes a connection. Looks at each action's case in place: a
    /// `contains(where:)` would copy every action, message and all.
    func containsClose(from start: Int) -> Bool {
        for index in start..<endIndex {
            if case .close = self[index] { return true }
        }
        return false
    }

    /// Whether any action is for the store; looks at each in place, like `containsClose(from:)`.
    var containsStoreAction: Bool {
        for index in indices {
            switch self[index] {
            case .store, .forget, .update, .event: return true
            default: continue
            }
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
