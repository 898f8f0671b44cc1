import GearmanProtocol
import NIOCore
import Testing

@testable import Gearman

@Suite struct ClientConnectionStateMachineTests {
    typealias Machine = ClientConnectionStateMachine<UInt64>
    let server = GearmanServerAddress(host: "127.0.0.1")

    func job(_ function: String, unique: String = "", background: Bool = false) -> GearmanSubmitJob {
        GearmanSubmitJob(
            function: ByteBuffer(string: function), unique: ByteBuffer(string: unique),
            workload: ByteBuffer(string: "w"), isBackground: background)
    }

    func active() -> Machine {
        var machine = Machine(server: server)
        #expect(machine.channelActive() == .write(.option(ByteBuffer(string: "exceptions"))))
        #expect(machine.receive(.option(ByteBuffer(string: "exceptions"))) == .none)
        return machine
    }

    @Test func jobCreatedMatchesSubmitsInOrder() {
        var machine = active()
        #expect(machine.send(1, .submit(job("a"))) == .write(.submitJob(job("a"))))
        _ = machine.send(2, .submit(job("b")))
        _ = machine.send(3, .submit(job("c", background: true)))
        #expect(machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1"))) == .created(1, handle: "H:1"))
        #expect(machine.receive(.jobCreated(handle: ByteBuffer(string: "H:2"))) == .created(2, handle: "H:2"))
        #expect(machine.receive(.jobCreated(handle: ByteBuffer(string: "H:3"))) == .succeed(3, .created(handle: "H:3")))
        #expect(
            machine.receive(.workComplete(handle: ByteBuffer(string: "H:2"), data: ByteBuffer(string: "two")))
                == .finish(.init(first: 2), .success(ByteBuffer(string: "two"))))
        #expect(
            machine.receive(.workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "one")))
                == .finish(.init(first: 1), .success(ByteBuffer(string: "one"))))
        #expect(machine.inFlight == 0)
    }

    @Test func progressGoesToTheJobsWaiters() {
        var machine = active()
        _ = machine.send(7, .submit(job("a")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:9")))
        let handle = ByteBuffer(string: "H:9")
        #expect(
            machine.receive(.workData(handle: handle, data: ByteBuffer(string: "d")))
                == .event(.init(first: 7), .data(ByteBuffer(string: "d"))))
        #expect(
            machine.receive(.workWarning(handle: handle, data: ByteBuffer(string: "w")))
                == .event(.init(first: 7), .warning(ByteBuffer(string: "w"))))
        #expect(
            machine.receive(
                .workStatus(handle: handle, numerator: ByteBuffer(string: "3"), denominator: ByteBuffer(string: "10")))
                == .event(.init(first: 7), .status(numerator: 3, denominator: 10)))
        #expect(machine.receive(.workData(handle: ByteBuffer(string: "H:other"), data: ByteBuffer())) == .none)
    }

    @Test func mergedSubmissionsAllFinish() {
        var machine = active()
        _ = machine.send(1, .submit(job("a", unique: "u")))
        _ = machine.send(2, .submit(job("a", unique: "u")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
        #expect(
            machine.receive(.workFail(handle: ByteBuffer(string: "H:1")))
                == .finish(.init(first: 1, others: [2]), .failure(.workFailed(handle: "H:1"))))
        // gearmand sends a terminal packet per merged submission; the second finds nobody.
        #expect(machine.receive(.workFail(handle: ByteBuffer(string: "H:1"))) == .none)
    }

    @Test func exceptionsCarryTheMessage() {
        var machine = active()
        _ = machine.send(1, .submit(job("a")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
        #expect(
            machine.receive(.workException(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "boom")))
                == .finish(.init(first: 1), .failure(.workException(handle: "H:1", message: "boom"))))
    }

    @Test func errorsAnswerTheRequestAtTheHeadOfTheQueue() {
        var machine = active()
        _ = machine.send(1, .submit(job("a", background: true)))
        _ = machine.send(2, .status(handle: "H:1"))
        #expect(
            machine.receive(.error(code: "QUEUE_ERROR", message: "Job queue is full"))
                == .fail(1, .serverError(code: "QUEUE_ERROR", message: "Job queue is full")))
        let status = GearmanJobStatus(key: ByteBuffer(string: "H:1"), isKnown: false, isRunning: false)
        #expect(machine.receive(.status(status)) == .succeed(2, .status(status)))
    }

    @Test func anUnsupportedOptionIsIgnored() {
        var machine = Machine(server: server)
        _ = machine.channelActive()
        _ = machine.send(1, .echo(ByteBuffer(string: "x")))
        #expect(machine.receive(.error(code: "UNKNOWN_OPTION", message: "")) == .none)
        #expect(machine.receive(.echo(ByteBuffer(string: "x"))) == .succeed(1, .echo(ByteBuffer(string: "x"))))
    }

    /// gear's own job server (OpenDev) answers OPTION_REQ with nothing at all.
    @Test func anOptionRequestLeftUnansweredIsSkipped() {
        var machine = Machine(server: server)
        _ = machine.channelActive()
        _ = machine.send(1, .submit(job("a")))
        #expect(machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1"))) == .created(1, handle: "H:1"))
        guard
            case .finish(_, .success(let result)) = machine.receive(
                .workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "ok")))
        else {
            Issue.record("WORK_COMPLETE did not finish the job")
            return
        }
        #expect(result == ByteBuffer(string: "ok"))
    }

    @Test func aCancelledRequestsReplyIsDropped() {
        var machine = active()
        _ = machine.send(1, .submit(job("a")))
        _ = machine.send(2, .submit(job("b")))
        #expect(machine.cancel(1, with: .timeout) == .fail(1, .timeout))
        #expect(machine.cancel(1, with: .timeout) == .none)
        #expect(machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1"))) == .none)
        #expect(machine.receive(.jobCreated(handle: ByteBuffer(string: "H:2"))) == .created(2, handle: "H:2"))
        #expect(machine.receive(.workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer())) == .none)
        #expect(machine.inFlight == 1)
    }

    @Test func cancellingARunningJobLeavesOtherWaiters() {
        var machine = active()
        _ = machine.send(1, .submit(job("a", unique: "u")))
        _ = machine.send(2, .submit(job("a", unique: "u")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
        #expect(machine.cancel(1, with: .timeout) == .fail(1, .timeout))
        #expect(
            machine.receive(.workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer()))
                == .finish(.init(first: 2), .success(ByteBuffer())))
        #expect(machine.inFlight == 0)
    }

    @Test func closingFailsEverythingAndLaterRequests() {
        var machine = active()
        _ = machine.send(1, .submit(job("a")))
        _ = machine.send(2, .submit(job("b")))
        _ = machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
        let (failed, error) = machine.channelInactive()
        #expect(Set(failed) == [1, 2] && error == .connectionLost(server: server))
        #expect(machine.send(3, .submit(job("c"))) == .fail(3, .connectionLost(server: server)))
    }

    @Test func unexpectedPacketsCloseTheConnection() {
        var machine = active()
        _ = machine.send(4, .echo(ByteBuffer(string: "x")))
        #expect(
            machine.receive(.jobCreated(handle: ByteBuffer(string: "H:1")))
                == .close([4], .protocolViolation("unexpected JOB_CREATED")))
        #expect(machine.receive(.echo(ByteBuffer(string: "x"))) == .none)
        #expect(machine.send(5, .echo(ByteBuffer())) == .fail(5, .protocolViolation("unexpected JOB_CREATED")))
        var other = active()
        guard case .close = other.receive(.noJob) else {
            Issue.record("NO_JOB to a client must close")
            return
        }
    }
}
