import Foundation
import GearmanProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import Testing

@testable import GearmanServer

/// The SQLite store and its writer on real files.
@Suite struct SQLiteJobStoreTests {
    let logger = Logger(label: "test.store")

    func job(
        _ id: UInt64, workload: [UInt8], unique: String = "", priority: GearmanPriority = .normal,
        epoch: Int64? = nil, reducer: String? = nil
    ) -> StoredJob {
        StoredJob(
            id: id, function: ByteBuffer(string: "f\(id % 3)"), unique: ByteBuffer(string: unique), priority: priority,
            epoch: epoch, reducer: reducer.map { ByteBuffer(string: $0) }, workload: ByteBuffer(bytes: workload))
    }

    func recoverAll(_ store: SQLiteJobStore) throws -> (jobs: [StoredJob], recovery: StoreRecovery) {
        var jobs: [StoredJob] = []
        let recovery = try store.recover { jobs += $0 }
        return (jobs, recovery)
    }

    @Test func rowsComeBackAsTheyWereWrittenInIDOrder() throws {
        let scratch = try ScratchFolder()
        let written = [
            job(7, workload: [0, 1, 2, 0, 255], unique: "u", priority: .high),
            job(3, workload: [], priority: .low, epoch: 1_900_000_000),
            job(12, workload: Array("reduce me".utf8), unique: "-", reducer: "sum"),
            job(20, workload: [9]),
        ]
        do {
            let store = try SQLiteJobStore(path: scratch.store, logger: logger)
            try store.write(inserting: written, deleting: [])
            try store.write(inserting: [], deleting: [20])
        }
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        let (jobs, recovery) = try recoverAll(store)
        #expect(recovery == StoreRecovery(restored: 3, setAside: 0))
        #expect(jobs == [written[1], written[0], written[2]])
    }

    @Test func aJobWrittenAndDeletedInOneTransactionLeavesNoRow() throws {
        let scratch = try ScratchFolder()
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        try store.write(inserting: [job(1, workload: [1]), job(2, workload: [2])], deleting: [1])
        #expect(try recoverAll(store).jobs.map(\.id) == [2])
    }

    @Test func replayIsChunkedAndKeepsOrderAcrossChunks() throws {
        let scratch = try ScratchFolder()
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        let count = SQLiteJobStore.recoveryChunk * 2 + 17
        try store.write(inserting: (1...UInt64(count)).map { job($0, workload: Array("\($0)".utf8)) }, deleting: [])
        var chunks = 0
        var ids: [UInt64] = []
        let recovery = try store.recover { chunk in
            chunks += 1
            ids += chunk.map(\.id)
        }
        #expect(chunks == 3)
        #expect(recovery.restored == count)
        #expect(ids == Array(1...UInt64(count)))
    }

    @Test func rowsThatAreNotJobsAreSetAsideOnceAndKept() throws {
        let scratch = try ScratchFolder()
        do {
            let store = try SQLiteJobStore(path: scratch.store, logger: logger)
            try store.write(inserting: [job(1, workload: [1]), job(5, workload: [5])], deleting: [])
        }
        do {
            let database = try SQLiteDatabase(path: scratch.store)
            try database.execute(
                """
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (2, 'f', '', 3, NULL, NULL, x'00');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (3, 'f', '', 1, -5, NULL, x'00');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (4, 'f', 12, 1, NULL, NULL, x'00');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (6, 'f', '', 1, NULL, 4.5, x'00');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (-1, 'f', '', 1, NULL, NULL, x'00');
                """)
        }
        do {
            let store = try SQLiteJobStore(path: scratch.store, logger: logger)
            let (jobs, recovery) = try recoverAll(store)
            #expect(jobs.map(\.id) == [1, 5])
            #expect(recovery == StoreRecovery(restored: 2, setAside: 5))
            #expect(try recoverAll(store).recovery == StoreRecovery(restored: 2, setAside: 0))
        }
        let database = try SQLiteDatabase(path: scratch.store)
        #expect(try database.integer("SELECT count(*) FROM gearbox_jobs_set_aside WHERE reason IS NOT NULL") == 5)
        #expect(try database.integer("SELECT count(*) FROM gearbox_jobs") == 2)
    }

    @Test func aSecondStoreOnTheSameFileIsRefused() throws {
        let scratch = try ScratchFolder()
        let first = try SQLiteJobStore(path: scratch.store, logger: logger)
        try first.write(inserting: [job(1, workload: [1])], deleting: [])
        #expect {
            _ = try SQLiteJobStore(path: scratch.store, logger: logger)
        } throws: { error in
            "\(error)".contains("in use by another process")
        }
    }

    @Test func anUnopenableFileIsAStoreError() async throws {
        let writer = StoreWriter(location: .sqlite(path: "/nonexistent-folder/jobs.db"), logger: logger)
        await #expect(throws: StoreError.self) {
            _ = try await writer.open(restore: { _ in }, report: { _ in })
        }
        await writer.close()
    }

    /// Writes arriving from several threads while a commit is in flight share the next transaction.
    @Test func theWriterCommitsManyJobsPerTransaction() async throws {
        let scratch = try ScratchFolder()
        let writer = StoreWriter(location: .sqlite(path: scratch.store), logger: logger)
        let stored = NIOLockedValueBox<[StoreReceipt]>([])
        let reports = NIOLockedValueBox(0)
        _ = try await writer.open(
            restore: { _ in },
            report: { outcome in
                #expect(outcome.failure == nil)
                stored.withLockedValue { $0 += outcome.stored }
                reports.withLockedValue { $0 += 1 }
            })
        let perThread = 5_000
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    for index in 0..<perThread {
                        let id = UInt64(thread * perThread + index + 1)
                        let wake = writer.enqueue([
                            .store(
                                job(id, workload: Array(repeating: 7, count: 64)),
                                StoreReceipt(handle: JobHandle(id), submitter: ConnectionID(1)))
                        ])
                        if wake { writer.wake() }
                    }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while stored.withLockedValue({ $0.count }) < 4 * perThread, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(Set(stored.withLockedValue { $0 }).count == 4 * perThread)
        let transactions = writer.state.transactions
        #expect(transactions < 4 * perThread / 10, "\(transactions) transactions for \(4 * perThread) jobs")
        print("store writer: \(4 * perThread) jobs in \(transactions) transactions")
        await writer.close()
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        #expect(try recoverAll(store).recovery.restored == 4 * perThread)
    }

    @Test func aRowsProgressIsRewrittenAndReadBack() throws {
        let scratch = try ScratchFolder()
        let retrying = JobProgress(attempts: 2, lastError: "timed out", firstFailed: 100, lastFailed: 160)
        let dead = JobProgress(attempts: 3, lastError: "WORK_FAIL", firstFailed: 1, lastFailed: 9, isDead: true)
        do {
            let store = try SQLiteJobStore(path: scratch.store, logger: logger)
            try store.write(
                inserting: [job(1, workload: [1]), job(2, workload: [2]), job(3, workload: [3])], deleting: [])
            var first = job(1, workload: [1], epoch: 2_000_000_000)
            first.progress = retrying
            var second = job(2, workload: [2])
            second.progress = dead
            try store.write(inserting: [], updating: [first, second], deleting: [])
        }
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        let jobs = try recoverAll(store).jobs
        #expect(jobs.map(\.progress) == [retrying, dead, .none])
        #expect(jobs.first?.epoch == 2_000_000_000)
    }

    @Test func aFileWrittenBeforeRetriesGetsTheirColumnsAndKeepsItsJobs() throws {
        let scratch = try ScratchFolder()
        do {
            let database = try SQLiteDatabase(path: scratch.store)
            try database.execute(
                """
                CREATE TABLE gearbox_jobs (
                    id INTEGER PRIMARY KEY, function BLOB NOT NULL, unique_key BLOB NOT NULL,
                    priority INTEGER NOT NULL, when_to_run INTEGER, reducer BLOB, data BLOB NOT NULL);
                INSERT INTO gearbox_jobs VALUES (7, 'f', 'u', 1, NULL, NULL, x'01');
                """)
        }
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        let jobs = try recoverAll(store).jobs
        #expect(jobs.map(\.id) == [7])
        #expect(jobs.first?.progress == JobProgress.none)
    }

    @Test func theEventOutboxKeepsWhatWasNotDeliveredInOrder() throws {
        let scratch = try ScratchFolder()
        func event(_ n: Int, _ kind: JobEvent.Kind) -> StoredJobEvent {
            StoredJobEvent(
                id: UInt64(n),
                event: JobEvent(
                    event: kind, function: "mail", handle: "H:test:\(n)", unique: "u\(n)", attempt: n,
                    error: kind == .completed ? nil : "boom \(n)", time: 1_800_000_000 + Int64(n),
                    retryAt: kind == .retrying ? 1_800_000_100 : nil))
        }
        let events = [event(1, .completed), event(2, .failed), event(3, .retrying), event(4, .dead)]
        do {
            let store = try SQLiteJobStore(path: scratch.store, logger: logger)
            try store.write(inserting: [], updating: [], deleting: [], events: events, eventsDelivered: [])
            try store.write(inserting: [], updating: [], deleting: [], events: [], eventsDelivered: [1, 3])
        }
        let store = try SQLiteJobStore(path: scratch.store, logger: logger)
        #expect(try store.recoverEvents() == [events[1], events[3]])
    }
}
