import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

@Suite struct JobLifecycleTests {
    @Test func foregroundJobGoesFromClientToWorkerAndBack() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("reverse")
        let handle = try #require(harness.submit("reverse", "Hello", from: client))
        #expect(handle.string == "H:test:1")
        let job = try #require(harness.grab(worker))
        #expect(job.handle == handle)
        #expect(job.function == "reverse")
        #expect(job.workload == "Hello")
        harness.send(
            .workStatus(handle: handle, numerator: ByteBuffer(string: "1"), denominator: ByteBuffer(string: "2")),
            from: worker)
        harness.send(.workData(handle: handle, data: ByteBuffer(string: "ol")), from: worker)
        harness.complete(handle, "olleH", from: worker)
        #expect(
            harness.take(client) == [
                .workStatus(handle: handle, numerator: ByteBuffer(string: "1"), denominator: ByteBuffer(string: "2")),
                .workData(handle: handle, data: ByteBuffer(string: "ol")),
                .workComplete(handle: handle, data: ByteBuffer(string: "olleH")),
            ])
        #expect(harness.take(worker).isEmpty)
        #expect(harness.grab(worker) == nil)
        #expect(harness.admin("status", from: client) == "reverse\t0\t0\t1\n.\n")
    }

    @Test func handlesCountUpAndNeverRepeat() {
        let harness = EngineHarness()
        let client = harness.connect()
        let handles = (0..<5).compactMap { _ in harness.submit("f", background: true, from: client)?.string }
        #expect(handles == ["H:test:1", "H:test:2", "H:test:3", "H:test:4", "H:test:5"])
    }

    @Test func grabModesAnswerWithTheMatchingAssignment() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        _ = harness.submit("f", "a", unique: "u1", from: client)
        _ = harness.submit("f", "b", unique: "u2", from: client)
        _ = harness.submit("f", "c", unique: "u3", from: client)
        _ = harness.submit("f", "d", unique: "u4", reducer: "sum", from: client)
        harness.send(.grabJob(.plain), from: worker)
        harness.send(.grabJob(.unique), from: worker)
        harness.send(.grabJob(.all), from: worker)
        harness.send(.grabJob(.all), from: worker)
        let assignments = harness.take(worker)
        #expect(assignments.count == 4)
        guard case .jobAssign(_, _, let a) = assignments[0] else {
            Issue.record("JOB_ASSIGN expected")
            return
        }
        #expect(a.string == "a")
        guard case .jobAssignUnique(_, _, let u2, _) = assignments[1] else {
            Issue.record("JOB_ASSIGN_UNIQ expected")
            return
        }
        #expect(u2.string == "u2")
        guard case .jobAssignUnique(_, _, let u3, _) = assignments[2] else {
            Issue.record("JOB_ASSIGN_UNIQ expected")
            return
        }
        #expect(u3.string == "u3")
        guard case .jobAssignAll(_, _, let u4, let reducer, let d) = assignments[3] else {
            Issue.record("JOB_ASSIGN_ALL expected")
            return
        }
        #expect(u4.string == "u4" && reducer.string == "sum" && d.string == "d")
    }

    @Test func aWorkerMayHoldSeveralJobsAtOnce() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let first = try #require(harness.submit("f", "1", from: client))
        let second = try #require(harness.submit("f", "2", from: client))
        let a = try #require(harness.grab(worker))
        let b = try #require(harness.grab(worker))
        #expect(a.handle == first && b.handle == second)
        #expect(harness.admin("status", from: client) == "f\t2\t2\t1\n.\n")
        harness.complete(second, "two", from: worker)
        harness.complete(first, "one", from: worker)
        #expect(
            harness.take(client) == [
                .workComplete(handle: second, data: ByteBuffer(string: "two")),
                .workComplete(handle: first, data: ByteBuffer(string: "one")),
            ])
    }

    @Test func workFailAndExceptionsReachClientsAsTheyAskedForThem() throws {
        let harness = EngineHarness()
        let plain = harness.connect()
        let modern = harness.connect()
        harness.send(.option(ByteBuffer(string: "exceptions")), from: modern)
        #expect(harness.take(modern) == [.option(ByteBuffer(string: "exceptions"))])
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "same", from: plain))
        #expect(harness.submit("f", unique: "same", from: modern) == handle)
        _ = try #require(harness.grab(worker))
        harness.send(.workException(handle: handle, data: ByteBuffer(string: "bad image")), from: worker)
        #expect(harness.take(plain) == [.workFail(handle: handle)])
        #expect(harness.take(modern) == [.workException(handle: handle, data: ByteBuffer(string: "bad image"))])

        let failing = try #require(harness.submit("f", from: plain))
        _ = try #require(harness.grab(worker))
        harness.send(.workFail(handle: failing), from: worker)
        #expect(harness.take(plain) == [.workFail(handle: failing)])
    }

    @Test func unknownOptionsAreRefused() {
        let harness = EngineHarness()
        let client = harness.connect()
        harness.send(.option(ByteBuffer(string: "telepathy")), from: client)
        guard case .error(let code, _) = harness.take(client).first else {
            Issue.record("ERROR expected")
            return
        }
        #expect(code == "UNKNOWN_OPTION")
    }

    @Test func workPacketsForUnknownOrForeignHandlesGetJobNotFound() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let other = harness.worker("f")
        let handle = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(worker))
        for bogus in ["H:test:999", "nonsense", ""] {
            harness.complete(ByteBuffer(string: bogus), "x", from: worker)
            guard case .error(let code, _) = harness.take(worker).first else {
                Issue.record("ERROR expected for \(bogus)")
                continue
            }
            #expect(code == "JOB_NOT_FOUND")
        }
        harness.complete(handle, "stolen", from: other)
        guard case .error(let code, _) = harness.take(other).first else {
            Issue.record("ERROR expected")
            return
        }
        #expect(code == "JOB_NOT_FOUND")
        #expect(harness.take(client).isEmpty)
    }

    @Test func statusIsKnownRunningAndProgressing() throws {
        let harness = EngineHarness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "status-me", background: true, from: client))
        harness.send(.getStatus(handle: handle), from: client)
        #expect(harness.take(client) == [.status(GearmanJobStatus(key: handle, isKnown: true, isRunning: false))])
        _ = try #require(harness.grab(worker))
        harness.send(
            .workStatus(handle: handle, numerator: ByteBuffer(string: "3"), denominator: ByteBuffer(string: "4")),
            from: worker)
        harness.send(.getStatus(handle: handle), from: client)
        #expect(
            harness.take(client) == [
                .status(GearmanJobStatus(key: handle, isKnown: true, isRunning: true, numerator: 3, denominator: 4))
            ])
        harness.send(.getStatusUnique(unique: ByteBuffer(string: "status-me")), from: client)
        #expect(
            harness.take(client) == [
                .statusUnique(
                    GearmanJobStatus(
                        key: ByteBuffer(string: "status-me"), isKnown: true, isRunning: true, numerator: 3,
                        denominator: 4))
            ])
        harness.complete(handle, "done", from: worker)
        harness.send(.getStatus(handle: handle), from: client)
        #expect(harness.take(client) == [.status(GearmanJobStatus(key: handle, isKnown: false, isRunning: false))])
        harness.send(.getStatusUnique(unique: ByteBuffer(string: "status-me")), from: client)
        #expect(
            harness.take(client) == [
                .statusUnique(GearmanJobStatus(key: ByteBuffer(string: "status-me"), isKnown: false, isRunning: false))
            ])
    }

    @Test func echoAndScheduledSubmissions() {
        let harness = EngineHarness()
        let client = harness.connect()
        harness.send(.echo(ByteBuffer(string: "ping")), from: client)
        #expect(harness.take(client) == [.echo(ByteBuffer(string: "ping"))])
        let schedule = GearmanSchedule(
            minute: ByteBuffer(string: "1"), hour: ByteBuffer(string: "1"), dayOfMonth: ByteBuffer(string: "1"),
            month: ByteBuffer(string: "1"), dayOfWeek: ByteBuffer(string: "1"))
        harness.send(
            .submitJobScheduled(GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer()), schedule),
            from: client)
        guard case .error = harness.take(client).first else {
            Issue.record("SUBMIT_JOB_SCHED should be refused, as gearmand refuses it")
            return
        }
    }

    @Test func protocolErrorsAnswerThenClose() {
        let harness = EngineHarness()
        let client = harness.connect()
        harness.protocolError(.unknownPacketType(43), from: client)
        #expect(harness.take(client) == [.error(code: "INVALID_COMMAND", message: "Unknown packet type 43")])
        #expect(harness.closed == [client])
    }

    @Test func uniqueKeysLongerThanGearmandsLimitAreRefused() {
        let harness = EngineHarness()
        let client = harness.connect()
        #expect(harness.submit("f", unique: String(repeating: "u", count: 65), from: client) == nil)
        #expect(harness.submit("f", unique: String(repeating: "u", count: 64), from: client) != nil)
    }
}
