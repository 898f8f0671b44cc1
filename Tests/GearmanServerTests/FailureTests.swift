import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

@Suite struct FailureTests {
    @Test func aVanishedWorkersJobRunsOnAnotherWorker() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let doomed = harness.worker("f")
        let survivor = harness.worker("f")
        harness.send(.preSleep, from: survivor)
        let handle = try #require(harness.submit("f", "payload", from: client))
        #expect(harness.take(survivor) == [.noop])
        _ = try #require(harness.grab(doomed))
        harness.send(.preSleep, from: survivor)
        harness.disconnect(doomed)
        #expect(harness.take(survivor) == [.noop], "the requeued job wakes a sleeper")
        let retried = try #require(harness.grab(survivor))
        #expect(retried.handle == handle && retried.workload == "payload")
        #expect(harness.admin("show jobs", from: client) == "H:test:1\t1\t0\t1\n.\n")
        harness.complete(handle, "ok", from: survivor)
        #expect(harness.take(client) == [.workComplete(handle: handle, data: ByteBuffer(string: "ok"))])
    }

    @Test func retriesAreBoundedAndThenClientsGetWorkFail() throws {
        let harness = EngineHarness(jobRetries: 2)
        let client = harness.connect()
        let handle = try #require(harness.submit("f", from: client))
        let first = harness.worker("f")
        _ = try #require(harness.grab(first))
        harness.disconnect(first)
        #expect(harness.take(client).isEmpty)
        let second = harness.worker("f")
        _ = try #require(harness.grab(second))
        harness.disconnect(second)
        #expect(harness.take(client) == [.workFail(handle: handle)])
        #expect(harness.admin("status", from: client) == "f\t0\t0\t0\n.\n")
    }

    @Test func givingUpAFunctionRequeuesItsJobs() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f", "g")
        let handle = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(worker))
        harness.send(.cantDo(function: ByteBuffer(string: "f")), from: worker)
        #expect(harness.admin("status", from: client) == "f\t1\t0\t0\ng\t0\t0\t1\n.\n")
        harness.send(.resetAbilities, from: worker)
        let other = harness.worker("f")
        #expect(try #require(harness.grab(other)).handle == handle)
        harness.complete(handle, "late", from: worker)
        guard case .error(let code, _) = harness.take(worker).first else {
            Issue.record("the old worker's result must be refused")
            return
        }
        #expect(code == "JOB_NOT_FOUND")
    }

    @Test func canDoTimeoutRequeuesAndRefusesTheLateResult() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let slow = harness.connect()
        harness.send(.canDoTimeout(function: ByteBuffer(string: "f"), timeout: 250), from: slow)
        let handle = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(slow))
        let timeouts = harness.takeOtherActions().compactMap { action -> (JobHandle, UInt32, UInt32)? in
            if case .startJobTimeout(let handle, let attempt, let milliseconds) = action {
                return (handle, attempt, milliseconds)
            }
            return nil
        }
        #expect(timeouts.count == 1)
        let (jobHandle, attempt, milliseconds) = try #require(timeouts.first)
        #expect(milliseconds == 250)
        harness.timeOut(jobHandle, attempt: attempt)
        #expect(harness.admin("show jobs", from: client) == "H:test:1\t1\t0\t1\n.\n")
        harness.complete(handle, "too late", from: slow)
        guard case .error(let code, _) = harness.take(slow).first else {
            Issue.record("JOB_NOT_FOUND expected")
            return
        }
        #expect(code == "JOB_NOT_FOUND")
        let quick = harness.worker("f")
        _ = try #require(harness.grab(quick))
        harness.timeOut(jobHandle, attempt: attempt)
        #expect(
            harness.admin("status", from: client) == "f\t1\t1\t2\n.\n", "a stale timeout leaves the new attempt alone")
        harness.complete(handle, "ok", from: quick)
        #expect(harness.take(client) == [.workComplete(handle: handle, data: ByteBuffer(string: "ok"))])
    }

    @Test func aCanDoTimeoutOfZeroMeansNoTimeout() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.connect()
        harness.send(.canDoTimeout(function: ByteBuffer(string: "f"), timeout: 0), from: worker)
        _ = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(worker))
        let timers = harness.takeOtherActions().filter { if case .startJobTimeout = $0 { true } else { false } }
        #expect(timers.isEmpty)
    }

    @Test func aVanishedClientsQueuedJobsAreDropped() throws {
        let harness = EngineHarness()
        let leaving = harness.connect()
        let staying = harness.connect()
        let worker = harness.worker("f")
        _ = try #require(harness.submit("f", "alone", from: leaving))
        let shared = try #require(harness.submit("f", "shared", unique: "k", from: leaving))
        #expect(harness.submit("f", unique: "k", from: staying) == shared)
        _ = try #require(harness.submit("f", "bg", background: true, from: leaving))
        harness.disconnect(leaving)
        #expect(harness.admin("status", from: staying) == "f\t2\t0\t1\n.\n")
        var workloads: [String] = []
        while let job = harness.grab(worker) {
            workloads.append(job.workload)
        }
        #expect(workloads == ["shared", "bg"])
    }

    @Test func aVanishedClientsRunningJobFinishesQuietly() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(worker))
        harness.disconnect(client)
        harness.complete(handle, "nobody listens", from: worker)
        #expect(harness.take(worker).isEmpty)
        #expect(harness.admin("status", from: worker) == "f\t0\t0\t1\n.\n")
    }

    @Test func aWorkerThatIsAlsoTheOnlyClientCleansUpBoth() throws {
        let harness = EngineHarness()
        let both = harness.worker("f")
        _ = try #require(harness.submit("f", from: both))
        _ = try #require(harness.grab(both))
        harness.disconnect(both)
        let observer = harness.connect()
        #expect(harness.admin("status", from: observer) == "f\t0\t0\t0\n.\n")
        #expect(harness.admin("show jobs", from: observer) == ".\n")
    }
}
