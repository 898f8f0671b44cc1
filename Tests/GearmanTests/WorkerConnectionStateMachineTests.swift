import GearmanProtocol
import NIOCore
import Testing

@testable import Gearman

@Suite struct WorkerConnectionStateMachineTests {
    typealias Machine = WorkerConnectionStateMachine

    func assign(_ handle: String, function: String = "f") -> GearmanResponse {
        .jobAssignUnique(
            handle: ByteBuffer(string: handle), function: ByteBuffer(string: function), unique: ByteBuffer(string: "u"),
            workload: ByteBuffer(string: "w"))
    }

    func job(_ handle: String) -> Machine.AssignedJob {
        .init(handle: ByteBuffer(string: handle), function: "f", unique: "u", workload: ByteBuffer(string: "w"))
    }

    @Test func registersAndGrabsUpToCapacity() {
        var machine = Machine(
            functions: [.init(name: "f"), .init(name: "g", timeoutMilliseconds: 1500)], capacity: 3, clientID: "me")
        #expect(
            machine.registration == [
                .setClientID(ByteBuffer(string: "me")), .canDo(function: ByteBuffer(string: "f")),
                .canDoTimeout(function: ByteBuffer(string: "g"), timeout: 1500),
            ])
        #expect(machine.channelActive() == Machine.Action(grabs: 3))
    }

    @Test func sleepsWhenTheQueueIsEmptyAndWakesOnNoop() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 2, clientID: nil)
        _ = machine.channelActive()
        #expect(try machine.receive(.noJob) == .none)
        #expect(try machine.receive(.noJob) == Machine.Action(preSleep: true))
        #expect(machine.isSleeping)
        #expect(try machine.receive(.noop) == Machine.Action(grabs: 2))
        #expect(try machine.receive(.noop) == .none)
    }

    @Test func keepsGrabbingWhileJobsArrive() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 2, clientID: nil)
        _ = machine.channelActive()
        #expect(try machine.receive(assign("H:1")) == Machine.Action(start: job("H:1")))
        // The batch is answered with two jobs, so the queue may hold more, but both slots are taken.
        #expect(try machine.receive(assign("H:2")) == Machine.Action(start: job("H:2")))
        #expect(machine.running == 2 && machine.grabsInFlight == 0)
        var finished = machine.finished(handle: ByteBuffer(string: "H:1"), .complete(ByteBuffer(string: "r")))
        #expect(finished == Machine.Action(reply: .workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "r")), grabs: 1))
        #expect(try machine.receive(.noJob) == Machine.Action(preSleep: true))
        // Asleep: a finished job does not grab, the server will NOOP.
        finished = machine.finished(handle: ByteBuffer(string: "H:2"), .exception("bad"))
        #expect(finished == Machine.Action(reply: .workException(handle: ByteBuffer(string: "H:2"), data: ByteBuffer(string: "bad"))))
        #expect(try machine.receive(.noop) == Machine.Action(grabs: 2))
    }

    @Test func aJobAndNoJobInOneBatchSleeps() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 2, clientID: nil)
        _ = machine.channelActive()
        _ = try machine.receive(assign("H:1"))
        #expect(try machine.receive(.noJob) == Machine.Action(preSleep: true))
        #expect(
            machine.finished(handle: ByteBuffer(string: "H:1"), .fail)
                == Machine.Action(reply: .workFail(handle: ByteBuffer(string: "H:1"))))
    }

    @Test func drainsFinishesRunningJobsThenCloses() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 2, clientID: nil)
        _ = machine.channelActive()
        _ = try machine.receive(assign("H:1"))
        #expect(machine.drain() == .none)
        // A job from a grab already sent still runs.
        #expect(try machine.receive(assign("H:2")) == Machine.Action(start: job("H:2")))
        #expect(machine.finished(handle: ByteBuffer(string: "H:1"), .complete(ByteBuffer())).close == false)
        let last = machine.finished(handle: ByteBuffer(string: "H:2"), .complete(ByteBuffer()))
        #expect(last.close && last.grabs == 0 && last.reply != nil)
    }

    @Test func drainingAnIdleConnectionClosesAtOnce() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        _ = machine.channelActive()
        _ = try machine.receive(.noJob)
        #expect(machine.drain() == Machine.Action(close: true))
    }

    @Test func protocolViolationsThrow() {
        var machine = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        #expect(throws: GearmanError.self) { try machine.receive(.noJob) }
        #expect(throws: GearmanError.self) { try machine.receive(.jobCreated(handle: ByteBuffer(string: "H"))) }
    }

    @Test func lateResultsAreNotFatal() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        #expect(try machine.receive(.error(code: "JOB_NOT_FOUND", message: "Job given in work result not found")) == .none)
    }
}
