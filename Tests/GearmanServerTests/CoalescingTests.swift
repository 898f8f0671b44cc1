import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

@Suite struct CoalescingTests {
    @Test func sameUniqueAndFunctionShareOneJobAndItsResult() throws {
        let harness = EngineHarness()
        let first = harness.connect()
        let second = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", "one", unique: "k", from: first))
        #expect(harness.submit("f", "ignored", unique: "k", priority: .high, from: second) == handle)
        let job = try #require(harness.grab(worker))
        #expect(job.workload == "one")
        #expect(harness.grab(worker) == nil)
        harness.complete(handle, "r", from: worker)
        #expect(harness.take(first) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
        #expect(harness.take(second) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
    }

    @Test func runningJobsStillCoalesce() throws {
        let harness = EngineHarness()
        let first = harness.connect()
        let late = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "k", from: first))
        _ = try #require(harness.grab(worker))
        #expect(harness.submit("f", unique: "k", from: late) == handle)
        harness.complete(handle, "r", from: worker)
        #expect(harness.take(late) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
    }

    /// The first waiter is kept apart from the others: when it leaves, the next takes its place, in order.
    @Test func waitersLeavingInAnyOrderLeaveTheOthersTheirResult() throws {
        for leaving in 0..<3 {
            let harness = EngineHarness()
            let clients = (0..<3).map { _ in harness.connect() }
            let worker = harness.worker("f")
            let handle = try #require(harness.submit("f", unique: "k", from: clients[0]))
            #expect(harness.submit("f", unique: "k", from: clients[1]) == handle)
            #expect(harness.submit("f", unique: "k", from: clients[2]) == handle)
            harness.disconnect(clients[leaving])
            #expect(harness.admin("status", from: harness.connect()).contains("f\t1\t0\t1"))
            _ = try #require(harness.grab(worker))
            harness.complete(handle, "r", from: worker)
            for (index, client) in clients.enumerated() where index != leaving {
                #expect(harness.take(client) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
            }
        }
    }

    @Test func aJobWhoseWaitersAllLeaveIsDropped() throws {
        let harness = EngineHarness()
        let first = harness.connect()
        let second = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "k", from: first))
        #expect(harness.submit("f", unique: "k", from: second) == handle)
        harness.disconnect(second)
        harness.disconnect(first)
        #expect(harness.grab(worker) == nil)
        #expect(harness.submit("f", "new", unique: "k", from: harness.connect()) != handle)
    }

    @Test func emptyUniqueNeverMerges() {
        let harness = EngineHarness()
        let client = harness.connect()
        let a = harness.submit("f", "same", from: client)
        let b = harness.submit("f", "same", from: client)
        #expect(a != nil && b != nil && a != b)
    }

    @Test func dashMergesIdenticalWorkloadsOnly() {
        let harness = EngineHarness()
        let client = harness.connect()
        let a = harness.submit("f", "bytes", unique: "-", from: client)
        let b = harness.submit("f", "bytes", unique: "-", from: client)
        let c = harness.submit("f", "other", unique: "-", from: client)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func uniquesAreScopedToTheirFunction() {
        let harness = EngineHarness()
        let client = harness.connect()
        #expect(harness.submit("f", unique: "k", from: client) != harness.submit("g", unique: "k", from: client))
    }

    @Test func aBackgroundSubmitKeepsAForegroundJobAliveWhenItsClientLeaves() throws {
        let harness = EngineHarness()
        let foreground = harness.connect()
        let background = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "k", from: foreground))
        #expect(harness.submit("f", unique: "k", background: true, from: background) == handle)
        harness.disconnect(foreground)
        let job = try #require(harness.grab(worker))
        #expect(job.handle == handle)
    }

    @Test func aFinishedUniqueCanBeSubmittedAgain() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let first = try #require(harness.submit("f", unique: "k", from: client))
        harness.complete(try #require(harness.grab(worker)).handle, "r", from: worker)
        let second = try #require(harness.submit("f", unique: "k", from: client))
        #expect(first != second)
    }
}
