import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

@Suite struct SchedulingTests {
    @Test func priorityIsGlobalAcrossAWorkersFunctions() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("a", "b")
        _ = harness.submit("a", "low-a", priority: .low, background: true, from: client)
        _ = harness.submit("b", "normal-b", background: true, from: client)
        _ = harness.submit("a", "normal-a", background: true, from: client)
        _ = harness.submit("b", "high-b", priority: .high, background: true, from: client)
        _ = harness.submit("a", "high-a", priority: .high, background: true, from: client)
        #expect(harness.admin("prioritystatus", from: client) == "a\t1\t1\t1\t1\nb\t1\t1\t0\t1\n.\n")
        var order: [String] = []
        while let job = harness.grab(worker) {
            order.append(job.workload)
        }
        #expect(order == ["high-b", "high-a", "normal-b", "normal-a", "low-a"])
    }

    @Test func jobsOfOnePriorityRunInArrivalOrder() {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        for index in 0..<100 {
            _ = harness.submit("f", "\(index)", background: true, from: client)
        }
        var order: [String] = []
        while let job = harness.grab(worker) {
            order.append(job.workload)
        }
        #expect(order == (0..<100).map(String.init))
    }

    @Test func onlyAsManySleepersAreWokenAsThereAreJobs() {
        let harness = EngineHarness()
        let client = harness.connect()
        let workers = (0..<5).map { _ in harness.worker("f") }
        for worker in workers {
            harness.send(.preSleep, from: worker)
        }
        #expect(workers.allSatisfy { harness.take($0).isEmpty })
        _ = harness.submit("f", background: true, from: client)
        #expect(workers.map { harness.take($0).count }.reduce(0, +) == 1)
        _ = harness.submit("f", background: true, from: client)
        _ = harness.submit("f", background: true, from: client)
        let woken = workers.map { harness.take($0) }
        #expect(woken.filter { $0 == [.noop] }.count == 2)
        #expect(woken.allSatisfy { $0.isEmpty || $0 == [.noop] })
    }

    @Test func sleepingWhileWorkIsQueuedWakesAtOnce() {
        let harness = EngineHarness()
        let client = harness.connect()
        _ = harness.submit("f", background: true, from: client)
        let worker = harness.worker("f")
        harness.send(.preSleep, from: worker)
        #expect(harness.take(worker) == [.noop])
    }

    @Test func aSleeperThatRegistersLaterIsWokenToo() {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("a")
        harness.send(.preSleep, from: worker)
        harness.send(.canDo(function: ByteBuffer(string: "b")), from: worker)
        _ = harness.submit("b", background: true, from: client)
        #expect(harness.take(worker) == [.noop])
    }

    @Test func epochJobsWaitForTheirTimeAndThenWakeWorkers() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let due = harness.now + 60
        _ = try #require(harness.submit("f", "later", epoch: due, from: client))
        let wakeups = harness.takeOtherActions().compactMap { action -> Int64? in
            if case .scheduleEpochWakeup(let at) = action { return at }
            return nil
        }
        #expect(wakeups == [due])
        #expect(harness.grab(worker) == nil)
        #expect(harness.admin("status", from: client) == "f\t1\t0\t1\n.\n")
        harness.send(.preSleep, from: worker)
        harness.now = due - 1
        harness.releaseDueJobs()
        #expect(harness.take(worker).isEmpty)
        harness.now = due
        harness.releaseDueJobs()
        #expect(harness.take(worker) == [.noop])
        #expect(harness.grab(worker)?.workload == "later")
    }

    @Test func pastEpochsRunAtOnceAndEarlierEpochsRescheduleTheWakeup() {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        _ = harness.submit("f", "past", epoch: harness.now - 10, from: client)
        #expect(harness.grab(worker)?.workload == "past")
        _ = harness.submit("f", "far", epoch: harness.now + 100, from: client)
        _ = harness.submit("f", "near", epoch: harness.now + 10, from: client)
        _ = harness.submit("f", "farther", epoch: harness.now + 200, from: client)
        let wakeups = harness.takeOtherActions().compactMap { action -> Int64? in
            if case .scheduleEpochWakeup(let at) = action { return at }
            return nil
        }
        #expect(wakeups == [harness.now + 100, harness.now + 10])
        harness.now += 150
        harness.releaseDueJobs()
        #expect(harness.grab(worker)?.workload == "near")
        #expect(harness.grab(worker)?.workload == "far")
        #expect(harness.grab(worker) == nil)
    }

    @Test func maxQueueRefusesSubmissionsBeyondTheLimit() {
        let harness = EngineHarness()
        let admin = harness.connect()
        let client = harness.connect()
        #expect(harness.admin("maxqueue f 2", from: admin) == "OK\r\n")
        #expect(harness.submit("f", background: true, from: client) != nil)
        #expect(harness.submit("f", background: true, from: client) != nil)
        harness.send(
            .submitJob(GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(), isBackground: true)),
            from: client)
        #expect(harness.take(client) == [.error(code: "QUEUE_ERROR", message: "Job queue is full")])
        #expect(harness.admin("maxqueue f 0", from: admin) == "OK\r\n")
        #expect(harness.submit("f", background: true, from: client) != nil)
    }
}
