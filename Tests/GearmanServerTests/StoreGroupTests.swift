import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

/// The engine in a group of servers sharing a store: adopted jobs take reserved handles, stored jobs wait
/// while the lease may have expired, jobs another server adopted are dropped, and `status` adds the
/// group's counts.
@Suite struct StoreGroupTests {
    private func stored(_ id: UInt64, _ function: String = "f", _ workload: String = "w") -> StoredJob {
        StoredJob(
            id: id, function: ByteBuffer(string: function), unique: ByteBuffer(), priority: .normal, epoch: nil,
            reducer: nil, workload: ByteBuffer(string: workload))
    }

    @Test func adoptedJobsTakeReservedHandlesAndWakeASleepingWorker() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([stored(7)])
        let worker = harness.worker("f")
        #expect(harness.grab(worker)?.workload == "w")
        harness.send(.preSleep, from: worker)
        #expect(harness.take(worker).isEmpty)

        let first = harness.engine.reserveHandles(2)
        #expect(first == 8)
        harness.restore([stored(first, "f", "adopted-1"), stored(first + 1, "f", "adopted-2")])
        #expect(harness.take(worker) == [.noop])
        #expect(harness.grab(worker)?.handle == ByteBuffer(string: "H:test:8"))
        let client = harness.connect()
        _ = harness.submit("f", "new", background: true, from: client)
        #expect(harness.takeStoreRequests().map(\.id) == [10], "handles go on after the reserved ones")
    }

    @Test func storedJobsWaitWhileTheLeaseMayHaveExpiredAndForegroundJobsDoNot() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([stored(1, "f", "stored")])
        harness.leaseRenewed(heldUntil: harness.now + 5)
        harness.now += 5
        let worker = harness.worker("f", "g")
        #expect(harness.grab(worker) == nil, "a stored job is not handed out past the lease")
        harness.send(.preSleep, from: worker)
        #expect(harness.take(worker).isEmpty, "the worker sleeps rather than asking again at once")

        let client = harness.connect()
        let foreground = try #require(harness.submit("g", "foreground", from: client))
        #expect(harness.take(worker) == [.noop])
        #expect(harness.grab(worker)?.handle == foreground)
        harness.send(.preSleep, from: worker)

        harness.leaseRenewed(heldUntil: harness.now + 5)
        #expect(harness.take(worker) == [.noop], "a renewal wakes the workers passed over")
        #expect(harness.grab(worker)?.workload == "stored")
    }

    @Test func jobsAnotherServerAdoptedAreDroppedWithoutDeletingTheirRows() throws {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([stored(1, "f", "running"), stored(2, "f", "queued"), stored(3, "f", "joined")])
        let worker = harness.worker("f")
        let running = try #require(harness.grab(worker))
        let client = harness.connect()
        harness.send(.getStatus(handle: ByteBuffer(string: "H:test:2")), from: client)
        _ = harness.take(client)

        harness.storedJobsLost()
        #expect(harness.takeDeletes().isEmpty, "the rows are the adopter's now")
        #expect(harness.admin("status", from: client) == "f\t1\t1\t1\n.\n", "only the running job is left")
        harness.complete(running.handle, "done", from: worker)
        #expect(harness.takeDeletes().isEmpty)
        #expect(harness.grab(worker) == nil)
    }

    @Test func statusAddsTheJobsTheGroupsOtherServersHold() {
        let harness = EngineHarness(storesBackgroundJobs: true)
        harness.restore([stored(1, "f")])
        let admin = harness.connect()
        #expect(harness.engine.takeGroupCountsRequest() == false)
        #expect(harness.admin("status", from: admin) == "f\t1\t0\t0\n.\n")
        #expect(harness.engine.takeGroupCountsRequest(), "status asks the store to count")
        harness.engine.groupCounted(queuedElsewhere: [ByteBuffer(string: "f"): 4, ByteBuffer(string: "e"): 2])
        #expect(harness.admin("status", from: admin) == "e\t2\t0\t0\nf\t5\t0\t0\n.\n")
        #expect(harness.admin("show servers", from: admin) == "ERR NOT_IN_GROUP this+server+shares+no+store\r\n")
    }
}
