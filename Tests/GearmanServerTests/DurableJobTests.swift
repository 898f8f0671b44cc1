import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

/// The engine with a store attached: background jobs are acknowledged once their rows are committed,
/// deleted when they end, and read back in order after a restart.
@Suite struct DurableJobTests {
    private func stored(
        _ id: UInt64, _ function: String = "f", _ workload: String = "w", unique: String = "",
        priority: GearmanPriority = .normal, epoch: Int64? = nil
    ) -> StoredJob {
        StoredJob(
            id: id, function: ByteBuffer(string: function), unique: ByteBuffer(string: unique), priority: priority,
            epoch: epoch, reducer: nil, workload: ByteBuffer(string: workload))
    }

    @Test func aBackgroundJobIsAcknowledgedAndQueuedOnlyOnceItsRowIsCommitted() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        let worker = harness.worker("f")
        #expect(harness.submit("f", "payload", unique: "u", priority: .high, background: true, from: client) == nil)
        #expect(harness.grab(worker) == nil, "a job whose row is not on disk is not handed out")
        #expect(harness.admin("status", from: client) == "f\t0\t0\t1\n.\n")
        let rows = harness.commitStore()
        #expect(rows.count == 1)
        #expect(rows.first?.function.string == "f")
        #expect(rows.first?.unique.string == "u")
        #expect(rows.first?.workload.string == "payload")
        #expect(rows.first?.priority == .high)
        #expect(rows.first?.epoch == nil)
        let created = harness.take(client)
        guard case .jobCreated(let handle) = try #require(created.first) else {
            Issue.record("expected JOB_CREATED, got \(created)")
            return
        }
        let job = try #require(harness.grab(worker))
        #expect(job.handle == handle)
        #expect(harness.takeDeletes().isEmpty)
        harness.complete(handle, "done", from: worker)
        #expect(harness.takeDeletes() == [rows[0].id])
    }

    @Test func foregroundJobsAreNeverStored() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(worker))
        harness.complete(handle, "r", from: worker)
        #expect(harness.takeStoreRequests().isEmpty)
        #expect(harness.takeDeletes().isEmpty)
    }

    @Test func everyBackgroundJobHasItsOwnRowWhateverItsUnique() {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        for unique in ["", "", "-", "-"] {
            _ = harness.submit(
                "f", "w\(harness.takeStoreRequests().count)", unique: unique, background: true, from: client)
        }
        // "-" coalesces on the workload: the two "-" submissions above carry different workloads.
        let harness2 = EngineHarness(storesBackgroundJobs: true)
        let c2 = harness2.connect()
        _ = harness2.submit("f", "a", background: true, from: c2)
        _ = harness2.submit("f", "a", background: true, from: c2)
        _ = harness2.submit("f", "a", unique: "-", background: true, from: c2)
        _ = harness2.submit("f", "b", unique: "-", background: true, from: c2)
        let rows = harness2.takeStoreRequests()
        #expect(rows.count == 4)
        #expect(Set(rows.map(\.id)).count == 4)
    }

    @Test func submissionsOfOneUniqueShareOneRowAndAreAllAcknowledgedByItsCommit() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let first = harness.connect()
        let second = harness.connect()
        _ = harness.submit("f", unique: "k", background: true, from: first)
        _ = harness.submit("f", unique: "k", background: true, from: second)
        let rows = harness.commitStore()
        #expect(rows.count == 1)
        let handle = ByteBuffer(string: "H:test:\(rows[0].id)")
        #expect(harness.take(first) == [.jobCreated(handle: handle)])
        #expect(harness.take(second) == [.jobCreated(handle: handle)])
        // Once committed, a further submission is acknowledged at once, with no new row.
        #expect(harness.submit("f", unique: "k", background: true, from: second) == handle)
        #expect(harness.takeStoreRequests().isEmpty)
    }

    @Test func aFailedWriteAnswersQueueErrorAndForegroundJobsFlowOn() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        let worker = harness.worker("f")
        _ = harness.submit("f", "bg", background: true, from: client)
        harness.failStore("database or disk is full")
        #expect(harness.take(client) == [.error(code: "QUEUE_ERROR", message: "database or disk is full")])
        #expect(harness.grab(worker) == nil, "a job that was refused does not run")
        #expect(harness.engine.jobCount == 0)
        let handle = try #require(harness.submit("f", "fg", from: client))
        #expect(harness.grab(worker)?.workload == "fg")
        harness.complete(handle, "r", from: worker)
        // The store is back: background jobs are accepted again.
        _ = harness.submit("f", "bg2", background: true, from: client)
        harness.commitStore()
        #expect(harness.grab(worker)?.workload == "bg2")
    }

    @Test func aBackgroundSubmissionJoiningAForegroundJobStoresIt() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let waiting = harness.connect()
        let detached = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "k", from: waiting))
        _ = try #require(harness.grab(worker))
        _ = harness.submit("f", unique: "k", background: true, from: detached)
        let rows = harness.commitStore()
        #expect(rows.map(\.id) == [UInt64(String(handle.string.split(separator: ":").last!))!])
        #expect(harness.take(detached) == [.jobCreated(handle: handle)])
        harness.complete(handle, "r", from: worker)
        #expect(harness.takeDeletes() == rows.map(\.id))
        #expect(harness.take(waiting) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
    }

    @Test func whenTheJoiningWriteFailsTheForegroundClientStillGetsItsResult() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let waiting = harness.connect()
        let detached = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "k", from: waiting))
        _ = harness.submit("f", unique: "k", background: true, from: detached)
        harness.failStore("disk I/O error")
        #expect(harness.take(detached) == [.error(code: "QUEUE_ERROR", message: "disk I/O error")])
        #expect(harness.grab(worker)?.handle == handle)
        harness.complete(handle, "r", from: worker)
        #expect(harness.take(waiting) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
        #expect(harness.takeDeletes().isEmpty, "the row was never written")
    }

    /// With dead letters kept (the default) a failed job's row stays, marked dead (`RetryTests`).
    @Test func withDeadLettersOffEveryWayAStoredJobEndsDeletesItsRow() throws {
        let harness = EngineHarness(
            jobRetries: 1, storesBackgroundJobs: true, deadLetterPolicy: DeadLetterPolicy(maximumCount: 0))
        let client = harness.connect()
        let admin = harness.connect()
        for workload in ["complete", "fail", "exception", "cancel", "retries"] {
            _ = harness.submit("f", workload, background: true, from: client)
        }
        let rows = harness.commitStore()
        let ids = Dictionary(uniqueKeysWithValues: rows.map { ($0.workload.string, $0.id) })
        let worker = harness.worker("f")
        var job = try #require(harness.grab(worker))
        harness.complete(job.handle, "r", from: worker)
        #expect(harness.takeDeletes() == [ids["complete"]!])
        job = try #require(harness.grab(worker))
        harness.send(.workFail(handle: job.handle), from: worker)
        #expect(harness.takeDeletes() == [ids["fail"]!])
        job = try #require(harness.grab(worker))
        harness.send(.workException(handle: job.handle, data: ByteBuffer(string: "x")), from: worker)
        #expect(harness.takeDeletes() == [ids["exception"]!])
        #expect(harness.admin("cancel job H:test:\(ids["cancel"]!)", from: admin) == "OK\r\n")
        #expect(harness.takeDeletes() == [ids["cancel"]!])
        _ = try #require(harness.grab(worker))
        harness.disconnect(worker)
        #expect(harness.takeDeletes() == [ids["retries"]!], "its one attempt was spent")
    }

    @Test func aJobWhoseWorkerVanishesKeepsItsRow() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        _ = harness.submit("f", background: true, from: client)
        harness.commitStore()
        let worker = harness.worker("f")
        _ = try #require(harness.grab(worker))
        harness.disconnect(worker)
        #expect(harness.takeDeletes().isEmpty)
        #expect(harness.grab(harness.worker("f")) != nil)
    }

    @Test func restoredJobsComeBackInArrivalOrderWithinEachPriority() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([
            stored(3, "f", "f-normal-1"), stored(5, "g", "g-normal-2"), stored(7, "f", "f-low", priority: .low),
            stored(8, "g", "g-high", priority: .high), stored(9, "f", "f-normal-3", unique: "k"),
        ])
        let admin = harness.connect()
        #expect(harness.admin("status", from: admin) == "f\t3\t0\t0\ng\t2\t0\t0\n.\n")
        #expect(harness.admin("show jobs", from: admin).split(separator: "\n").count == 6)
        let worker = harness.worker("f", "g")
        var order: [String] = []
        while let job = harness.grab(worker) {
            order.append(job.workload)
        }
        #expect(order == ["g-high", "f-normal-1", "g-normal-2", "f-normal-3", "f-low"])
    }

    @Test func restoredUniquesStillCoalesceAndNewHandlesFollowTheLargestID() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([stored(41, unique: "k"), stored(40_000, unique: "other")])
        let client = harness.connect()
        #expect(harness.submit("f", unique: "k", background: true, from: client) == ByteBuffer(string: "H:test:41"))
        #expect(harness.takeStoreRequests().isEmpty)
        harness.send(.getStatusUnique(unique: ByteBuffer(string: "other")), from: client)
        guard case .statusUnique(let status) = try #require(harness.take(client).first) else {
            Issue.record("expected STATUS_RES_UNIQUE")
            return
        }
        #expect(status.isKnown)
        _ = harness.submit("f", "new", background: true, from: client)
        #expect(harness.takeStoreRequests().map(\.id) == [40_001])
    }

    @Test func epochJobsComeBackOnTheirTimerAndThoseDueWhileDownRunAtOnce() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([
            stored(1, "f", "was-due-while-down", epoch: harness.now - 60),
            stored(2, "f", "later", epoch: harness.now + 60),
        ])
        #expect(
            harness.takeOtherActions().contains {
                if case .scheduleEpochWakeup(let at) = $0 { at == harness.now + 60 } else { false }
            })
        let worker = harness.worker("f")
        #expect(harness.grab(worker)?.workload == "was-due-while-down")
        #expect(harness.grab(worker) == nil)
        harness.now += 60
        harness.releaseDueJobs()
        #expect(harness.grab(worker)?.workload == "later")
    }

    @Test func anEpochSubmissionIsStoredWithItsTime() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        _ = harness.submit("f", epoch: harness.now + 30, from: client)
        let rows = harness.commitStore()
        #expect(rows.first?.epoch == harness.now + 30)
        #expect(harness.take(client).count == 1)
        #expect(harness.grab(harness.worker("f")) == nil, "it waits for its time")
    }

    @Test func aJobCancelledBeforeItsCommitStillAnswersItsSubmitter() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let client = harness.connect()
        let admin = harness.connect()
        _ = harness.submit("f", background: true, from: client)
        let id = try #require(harness.takeStoreRequests().first?.id)
        #expect(harness.admin("cancel job H:test:\(id)", from: admin) == "OK\r\n")
        #expect(harness.takeDeletes() == [id])
        var actions: [ServerAction] = []
        harness.engine.jobsStored(
            [StoreReceipt(handle: JobHandle(id), submitter: client)], now: harness.now, into: &actions)
        #expect(actions.count == 1)
        #expect(harness.engine.invariantViolations().isEmpty)
    }

    @Test func showStoreIsAnsweredByTheChannelLayer() {
        let harness = EngineHarness(storesBackgroundJobs: true)
        let admin = harness.connect()
        var actions: [ServerAction] = []
        harness.engine.handle(GearmanAdminCommand(line: "show store"), from: admin, now: harness.now, into: &actions)
        guard case .send(admin, .storeStatus) = actions.first else {
            Issue.record("expected the store status message, got \(actions)")
            return
        }
    }
}
