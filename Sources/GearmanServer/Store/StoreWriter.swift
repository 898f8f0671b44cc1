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
        /// Why `notStored` failed: what the client's ERROR QUEUE_ERROR says.
        var failure: String?
    }

    private struct Pending {
        var inserts: [StoredJob] = []
        var receipts: [StoreReceipt] = []
        var deletes: [UInt64] = []
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
    private let logger: Logger
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

    init(location: StoreLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// Opens the store on the writer's thread, hands every stored job to `restore` (in `id` order, a chunk
    /// at a time), then starts writing; `report` gets each transaction's outcome, on the writer's thread.
    func open(
        restore: @escaping @Sendable ([StoredJob]) -> Void,
        report: @escaping @Sendable (Outcome) -> Void
    ) async throws -> StoreRecovery {
        lifecycle.withLockedValue { $0 = .running }
        thread.start()
        let location = self.location
        let logger = self.logger
        return try await withCheckedThrowingContinuation { opened in
            thread.submit { [self] _ in
                let store: any JobStore
                let recovery: StoreRecovery
                do {
                    store = try Self.makeStore(location, logger: logger)
                    recovery = try store.recover(restore)
                } catch {
                    opened.resume(throwing: StoreError(location: location, reason: "\(error)"))
                    finish()
                    return
                }
                opened.resume(returning: recovery)
                writeUntilClosed(store, report: report)
                finish()
            }
        }
    }

    private static func makeStore(_ location: StoreLocation, logger: Logger) throws -> any JobStore {
        switch location {
        case .sqlite(let path): try SQLiteJobStore(path: path, logger: logger)
        case .memory: preconditionFailure("a memory store has no writer")
        }
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

    private func finish() {
        let waiter = lifecycle.withLockedValue { lifecycle -> CheckedContinuation<Void, Never>? in
            defer { lifecycle = .stopped }
            if case .closing(let waiter) = lifecycle { return waiter }
            return nil
        }
        waiter?.resume()
    }

    private func writeUntilClosed(_ store: any JobStore, report: (Outcome) -> Void) {
        var failedDeletes: [UInt64] = []
        while true {
            if failedDeletes.isEmpty {
                wakeUp.wait()
            } else {
                _ = wakeUp.wait(timeout: .now() + Self.retryDelay)
            }
            var inserts: [StoredJob] = []
            var receipts: [StoreReceipt] = []
            var deletes: [UInt64] = []
            let closing = pending.withLockedValue { pending -> Bool in
                swap(&inserts, &pending.inserts)
                swap(&receipts, &pending.receipts)
                swap(&deletes, &pending.deletes)
                pending.isSignalled = false
                return pending.isClosing
            }
            let accepted = inserts.count + deletes.count
            deletes = failedDeletes + deletes
            var outcome = Outcome()
            if !inserts.isEmpty || !deletes.isEmpty {
                do {
                    try store.write(inserting: inserts, deleting: deletes)
                    outcome.stored = receipts
                    if !failedDeletes.isEmpty {
                        logger.notice("store: writing again", metadata: ["store": "\(location)"])
                    }
                    failedDeletes = []
                } catch {
                    let reason = "\(error)"
                    logger.error(
                        "store: a write failed",
                        metadata: ["store": "\(location)", "jobs": "\(inserts.count)", "error": "\(reason)"])
                    outcome.notStored = receipts
                    outcome.failure = reason
                    failedDeletes = deletes
                }
            }
            pending.withLockedValue { pending in
                pending.inFlight -= accepted
                pending.retrying = failedDeletes.count
                if outcome.failure == nil, accepted > 0 { pending.committedTransactions += 1 }
                if let failure = outcome.failure { pending.lastFailure = failure }
                if failedDeletes.isEmpty, outcome.failure == nil { pending.lastFailure = nil }
            }
            if !outcome.stored.isEmpty || !outcome.notStored.isEmpty {
                report(outcome)
            }
            if closing {
                let more = pending.withLockedValue { $0.inFlight > 0 }
                if more { continue }
                if !failedDeletes.isEmpty {
                    logger.warning(
                        "store: stopping with rows of ended jobs still stored; they will run again",
                        metadata: ["store": "\(location)", "jobs": "\(failedDeletes.count)"])
                }
                return
            }
        }
    }
}

/// The store could not be opened or read: the server does not start.
public struct StoreError: Error, CustomStringConvertible {
    public let location: StoreLocation
    public let reason: String

    public var description: String { "store \(location): \(reason)" }
}
