import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Writes the engine's `store` and `forget` actions to a `JobStore` on a thread of its own, with group
/// commit: everything that arrives while a transaction is being written goes into the next one, so a busy
/// server syncs once for thousands of jobs and an idle one writes a single job at once.
///
/// The store itself is made on that thread and never leaves it; only `Sendable` values cross.
final class StoreWriter: Sendable {
    /// What one transaction did, reported on the writer's thread.
    struct Outcome: Sendable {
        var stored: [StoreReceipt] = []
        var notStored: [StoreReceipt] = []
        /// Events now in the outbox, to hand to the hooks; or, when the write failed, events that are not.
        var events: [StoredJobEvent] = []
        /// Why `notStored` failed: what the client's ERROR QUEUE_ERROR says.
        var failure: String?
    }

    private struct Pending {
        var inserts: [StoredJob] = []
        var receipts: [StoreReceipt] = []
        var deletes: [UInt64] = []
        var updates: [StoredJob] = []
        var events: [JobEvent] = []
        var eventsDelivered: [UInt64] = []
        /// Set when the writer has been woken and has not yet taken what is pending.
        var isSignalled = false
        var isClosing = false
        /// Operations accepted and not yet committed (or failed), for the admin `show store` line.
        var inFlight = 0
        /// Deletes that failed, to be tried again.
        var retrying = 0
        var committedTransactions = 0
        var lastFailure: String?
    }

    /// How long the writer waits before it tries again to delete rows whose delete failed.
    static let retryDelay = DispatchTimeInterval.seconds(1)

    let location: StoreLocation
    private let serverName: String
    private let group: StoreGroupConfiguration
    private let logger: Logger
    /// The group as the store last saw it; nil until then, or when the store is not shared.
    private let groupStatus = NIOLockedValueBox<StoreGroupStatus?>(nil)
    private let pending = NIOLockedValueBox(Pending())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let lifecycle = NIOLockedValueBox(Lifecycle.notOpened)

    private enum Lifecycle {
        case notOpened
        case running
        /// `close` waits for the thread to finish.
        case closing(CheckedContinuation<Void, Never>)
        case stopped
    }

    private let metrics: ServerMetrics?
    /// Whether job events go through the store's outbox (the server has hooks).
    let keepsEvents: Bool

    init(
        location: StoreLocation, serverName: String = "", group: StoreGroupConfiguration = StoreGroupConfiguration(),
        metrics: ServerMetrics? = nil, keepsEvents: Bool = false, logger: Logger
    ) {
        self.keepsEvents = keepsEvents
        self.metrics = metrics
        self.location = location
        self.serverName = serverName
        self.group = group
        self.logger = logger
    }

    /// Opens the store on the writer's thread, hands every stored job to `restore` (in `id` order, a chunk
    /// at a time), then starts writing; `report` gets each transaction's outcome, and a shared store's
    /// `group` its calls, on the writer's thread.
    func open(
        restore: @escaping @Sendable ([StoredJob]) -> Void,
        restoreEvents: @escaping @Sendable ([StoredJobEvent]) -> Void = { _ in },
        report: @escaping @Sendable (Outcome) -> Void,
        group: StoreGroupDelegate = .unshared
    ) async throws -> StoreRecovery {
        lifecycle.withLockedValue { $0 = .running }
        thread.start()
        let observed = group.observed
        var group = group
        group.observed = { [groupStatus] status in
            groupStatus.withLockedValue { $0 = status }
            observed(status)
        }
        return try await withCheckedThrowingContinuation { [group] opened in
            thread.submit { [self] _ in
                let store: any JobStore
                let recovery: StoreRecovery
                let events: [StoredJobEvent]
                do {
                    store = try makeStore()
                    recovery = try store.recover(restore)
                    events = try store.recoverEvents()
                } catch {
                    opened.resume(throwing: StoreError(location: location, reason: "\(error)"))
                    finish()
                    return
                }
                if keepsEvents, !events.isEmpty {
                    restoreEvents(events)
                }
                opened.resume(returning: recovery)
                writeUntilClosed(
                    store, nextEventID: (events.last?.id ?? 0) + 1, report: report, group: group)
                store.close()
                finish()
            }
        }
    }

    private func makeStore() throws -> any JobStore {
        switch location {
        case .sqlite(let path):
            try SQLiteJobStore(path: path, logger: logger)
        case .postgres(let address):
            try PostgresJobStore(address: address, serverName: serverName, group: group, logger: logger)
        case .memory:
            preconditionFailure("a memory store has no writer")
        }
    }

    /// The servers sharing the store, as last seen; nil before the first look or when it is not shared.
    var lastGroupStatus: StoreGroupStatus? {
        groupStatus.withLockedValue { $0 }
    }

    /// Takes the store operations among `actions`. Cheap: called under the server's lock, which keeps the
    /// order in which the engine emitted them. Returns whether the writer must be woken: call `wake()` then,
    /// after that lock is released.
    func enqueue(_ actions: [ServerAction]) -> Bool {
        pending.withLockedValue { pending -> Bool in
            for index in actions.indices {
                switch actions[index] {
                case .store(let job, let receipt):
                    pending.inserts.append(job)
                    pending.receipts.append(receipt)
                    pending.inFlight += 1
                case .forget(let handle):
                    pending.deletes.append(handle.number)
                    pending.inFlight += 1
                case .update(let job):
                    pending.updates.append(job)
                    pending.inFlight += 1
                case .event(let event) where keepsEvents:
                    pending.events.append(event)
                    pending.inFlight += 1
                default:
                    continue
                }
            }
            guard !pending.isSignalled, pending.inFlight > 0 else { return false }
            pending.isSignalled = true
            return true
        }
    }

    func wake() {
        wakeUp.signal()
    }

    /// Operations accepted and not yet written, transactions committed, and the last failure.
    var state: (inFlight: Int, transactions: Int, lastFailure: String?) {
        pending.withLockedValue { ($0.inFlight + $0.retrying, $0.committedTransactions, $0.lastFailure) }
    }

    /// Writes what is pending, then stops the thread.
    func close() async {
        let signal = pending.withLockedValue { pending -> Bool in
            pending.isClosing = true
            defer { pending.isSignalled = true }
            return !pending.isSignalled
        }
        if signal { wakeUp.signal() }
        await withCheckedContinuation { continuation in
            let hasStopped = lifecycle.withLockedValue { lifecycle -> Bool in
                guard case .running = lifecycle else { return true }  // never opened, or already stopped
                lifecycle = .closing(continuation)
                return false
            }
            if hasStopped { continuation.resume() }
        }
        try? await thread.shutdownGracefully()
    }

    /// Runs a shared store's lease renewal and adoptions; logs a failure once, until it succeeds again.
    private func maintain(_ store: any JobStore, group: StoreGroupDelegate, lastFailure: String?) -> String? {
        do {
            try store.maintain(group)
            if lastFailure != nil {
                logger.notice("store: the group's lease renewed again", metadata: ["store.location": "\(location)"])
            }
            return nil
        } catch {
            let reason = "\(error)"
            if reason != lastFailure {
                logger.error(
                    "store: renewing the lease failed",
                    metadata: ["store.location": "\(location)", "store.error": "\(reason)"])
            }
            return reason
        }
    }

    private func finish() {
        let waiter = lifecycle.withLockedValue { lifecycle -> CheckedContinuation<Void, Never>? in
            defer { lifecycle = .stopped }
            if case .closing(let waiter) = lifecycle { return waiter }
            return nil
        }
        waiter?.resume()
    }

    /// Delivered events whose rows are to go, from `PendingJobEvent.finished`.
    func eventDelivered(_ id: UInt64) {
        let wake = pending.withLockedValue { pending -> Bool in
            pending.eventsDelivered.append(id)
            pending.inFlight += 1
            defer { pending.isSignalled = true }
            return !pending.isSignalled
        }
        if wake { wakeUp.signal() }
    }

    private func writeUntilClosed(
        _ store: any JobStore, nextEventID: UInt64, report: (Outcome) -> Void, group: StoreGroupDelegate
    ) {
        var nextEventID = nextEventID
        var failedDeletes: [UInt64] = []
        var failedEventDeletes: [UInt64] = []
        var failedUpdates: [StoredJob] = []
        let maintenanceInterval = store.maintenanceInterval.map {
            DispatchTimeInterval.nanoseconds(Int($0.nanoseconds))
        }
        var nextMaintenance = maintenanceInterval.map { DispatchTime.now() + $0 }
        var maintenanceFailure: String?
        while true {
            var wakeAt = nextMaintenance
            if !failedDeletes.isEmpty || !failedUpdates.isEmpty || !failedEventDeletes.isEmpty {
                wakeAt = min(wakeAt ?? .distantFuture, .now() + Self.retryDelay)
            }
            if let wakeAt {
                _ = wakeUp.wait(timeout: wakeAt)
            } else {
                wakeUp.wait()
            }
            var inserts: [StoredJob] = []
            var receipts: [StoreReceipt] = []
            var deletes: [UInt64] = []
            var updates: [StoredJob] = []
            var newEvents: [JobEvent] = []
            var eventsDelivered: [UInt64] = []
            let closing = pending.withLockedValue { pending -> Bool in
                swap(&inserts, &pending.inserts)
                swap(&receipts, &pending.receipts)
                swap(&deletes, &pending.deletes)
                swap(&updates, &pending.updates)
                swap(&newEvents, &pending.events)
                swap(&eventsDelivered, &pending.eventsDelivered)
                pending.isSignalled = false
                return pending.isClosing
            }
            let accepted = inserts.count + deletes.count + updates.count + newEvents.count + eventsDelivered.count
            deletes = failedDeletes + deletes
            updates = failedUpdates + updates
            eventsDelivered = failedEventDeletes + eventsDelivered
            Self.merge(&inserts, &updates, deleting: deletes)
            let events = newEvents.map { event in
                defer { nextEventID += 1 }
                return StoredJobEvent(id: nextEventID, event: event)
            }
            var outcome = Outcome()
            if !inserts.isEmpty || !updates.isEmpty || !deletes.isEmpty || !events.isEmpty || !eventsDelivered.isEmpty {
                do {
                    let started = NIODeadline.now()
                    try store.write(
                        inserting: inserts, updating: updates, deleting: deletes, events: events,
                        eventsDelivered: eventsDelivered)
                    metrics?.storeCommit.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
                    metrics?.storeBatch.record(inserts.count + updates.count + deletes.count)
                    outcome.stored = receipts
                    outcome.events = events
                    if !failedDeletes.isEmpty || !failedUpdates.isEmpty || !failedEventDeletes.isEmpty {
                        logger.notice("store: writing again", metadata: ["store.location": "\(location)"])
                    }
                    failedDeletes = []
                    failedUpdates = []
                    failedEventDeletes = []
                } catch {
                    let reason = "\(error)"
                    logger.error(
                        "store: a write failed",
                        metadata: [
                            "store.location": "\(location)", "store.jobs": "\(inserts.count)",
                            "store.error": "\(reason)",
                        ])
                    outcome.notStored = receipts
                    outcome.failure = reason
                    metrics?.storeFailures.increment()
                    failedDeletes = deletes
                    failedUpdates = updates
                    failedEventDeletes = eventsDelivered
                    // Not in the outbox: they are still handed to the hooks, which hold them in memory only.
                    outcome.events = events
                }
            }
            pending.withLockedValue { pending in
                pending.inFlight -= accepted
                pending.retrying = failedDeletes.count + failedUpdates.count + failedEventDeletes.count
                if outcome.failure == nil, accepted > 0 { pending.committedTransactions += 1 }
                if let failure = outcome.failure { pending.lastFailure = failure }
                if failedDeletes.isEmpty, failedUpdates.isEmpty, failedEventDeletes.isEmpty, outcome.failure == nil {
                    pending.lastFailure = nil
                }
            }
            if !outcome.stored.isEmpty || !outcome.notStored.isEmpty || !outcome.events.isEmpty {
                report(outcome)
            }
            if let interval = maintenanceInterval, let due = nextMaintenance,
                outcome.failure != nil || DispatchTime.now() >= due
            {
                // A failed write may mean the lease was lost: look at once rather than at the next renewal.
                maintenanceFailure = maintain(store, group: group, lastFailure: maintenanceFailure)
                nextMaintenance = .now() + interval
            }
            if closing {
                let more = pending.withLockedValue { $0.inFlight > 0 }
                if more { continue }
                if !failedDeletes.isEmpty {
                    logger.warning(
                        "store: stopping with rows of ended jobs still stored; they will run again",
                        metadata: ["store.location": "\(location)", "store.jobs": "\(failedDeletes.count)"])
                }
                return
            }
        }
    }
}

extension StoreWriter {
    /// Makes a batch what `JobStore.write` expects, no id in two of its lists: the last update of a row wins;
    /// an update of a row inserted in the same batch is folded into the insert; a row deleted in the batch
    /// is not updated.
    static func merge(_ inserts: inout [StoredJob], _ updates: inout [StoredJob], deleting deletes: [UInt64]) {
        guard !updates.isEmpty else { return }
        var latest: [UInt64: StoredJob] = [:]
        for update in updates {
            latest[update.id] = update
        }
        for id in deletes {
            latest.removeValue(forKey: id)
        }
        for index in inserts.indices {
            if let update = latest.removeValue(forKey: inserts[index].id) {
                inserts[index] = update
            }
        }
        updates = updates.compactMap { latest.removeValue(forKey: $0.id) }
    }
}

/// The store could not be opened or read: the server does not start.
public struct StoreError: Error, CustomStringConvertible {
    public let location: StoreLocation
    public let reason: String

    public var description: String { "store \(location): \(reason)" }
}
