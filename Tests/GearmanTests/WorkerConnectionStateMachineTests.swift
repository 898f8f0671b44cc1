import GearmanProtocol
import NIOConcurrencyHelpers
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

    /// A machine that is connected and was granted `granted` slots.
    func grabbing(capacity: Int, granted: Int? = nil) -> Machine {
        var machine = Machine(functions: [.init(name: "f")], capacity: capacity, clientID: nil)
        #expect(machine.channelActive() == Machine.Action(wantSlots: capacity))
        let count = granted ?? capacity
        #expect(machine.slotsGranted(count) == (count == 0 ? .none : Machine.Action(grabs: count)))
        return machine
    }

    @Test func registersAndAsksForSlotsUpToCapacity() {
        var machine = Machine(
            functions: [.init(name: "f"), .init(name: "g", timeoutMilliseconds: 1500)], capacity: 3, clientID: "me")
        #expect(
            machine.registration == [
                .setClientID(ByteBuffer(string: "me")), .canDo(function: ByteBuffer(string: "f")),
                .canDoTimeout(function: ByteBuffer(string: "g"), timeout: 1500),
            ])
        #expect(machine.channelActive() == Machine.Action(wantSlots: 3))
        #expect(machine.slotsGranted(2) == Machine.Action(grabs: 2))
        #expect(machine.grabsInFlight == 2)
    }

    @Test func waitsForSlotsWhenNoneAreGranted() throws {
        var machine = grabbing(capacity: 2, granted: 0)
        #expect(machine.grabsInFlight == 0)
        #expect(machine.slotsAvailable() == Machine.Action(wantSlots: 2))
        #expect(machine.slotsGranted(1) == Machine.Action(grabs: 1))
        // Grants that arrive when no longer wanted go back.
        #expect(machine.slotsGranted(1) == Machine.Action(releaseSlots: 1))
    }

    @Test func sleepsWhenTheQueueIsEmptyAndWakesOnNoop() throws {
        var machine = grabbing(capacity: 2)
        #expect(machine.receive(.noJob) == Machine.Action(releaseSlots: 1))
        #expect(machine.receive(.noJob) == Machine.Action(releaseSlots: 1, preSleep: true))
        #expect(machine.isSleeping)
        #expect(machine.slotsAvailable() == .none)
        #expect(machine.receive(.noop) == Machine.Action(wantSlots: 2))
        #expect(machine.receive(.noop) == .none)
    }

    @Test func keepsGrabbingWhileJobsArrive() throws {
        var machine = grabbing(capacity: 2)
        #expect(machine.receive(assign("H:1")) == Machine.Action(start: job("H:1")))
        // The batch is answered with two jobs, so the queue may hold more, but both slots are taken.
        #expect(machine.receive(assign("H:2")) == Machine.Action(start: job("H:2")))
        #expect(machine.running == 2 && machine.grabsInFlight == 0)
        let finished = machine.finished(handle: ByteBuffer(string: "H:1"), .complete(ByteBuffer(string: "r")))
        #expect(
            finished
                == Machine.Action(
                    reply: .workComplete(handle: ByteBuffer(string: "H:1"), data: ByteBuffer(string: "r")), wantSlots: 1
                ))
        #expect(machine.slotsGranted(1) == Machine.Action(grabs: 1))
        #expect(machine.receive(.noJob) == Machine.Action(releaseSlots: 1, preSleep: true))
        // Asleep: a finished job does not grab, the server will NOOP.
        #expect(
            machine.finished(handle: ByteBuffer(string: "H:2"), .exception("bad"))
                == Machine.Action(
                    reply: .workException(handle: ByteBuffer(string: "H:2"), data: ByteBuffer(string: "bad"))))
        #expect(machine.receive(.noop) == Machine.Action(wantSlots: 2))
    }

    @Test func aJobAndNoJobInOneBatchSleeps() throws {
        var machine = grabbing(capacity: 2)
        _ = machine.receive(assign("H:1"))
        #expect(machine.receive(.noJob) == Machine.Action(releaseSlots: 1, preSleep: true))
        #expect(
            machine.finished(handle: ByteBuffer(string: "H:1"), .fail)
                == Machine.Action(reply: .workFail(handle: ByteBuffer(string: "H:1"))))
    }

    @Test func doesNotSleepOnJobsWithATimeout() throws {
        // gearmand 1.1.20 drops the CAN_DO_TIMEOUT of a job whose worker sends PRE_SLEEP.
        var machine = Machine(functions: [.init(name: "f", timeoutMilliseconds: 500)], capacity: 2, clientID: nil)
        _ = machine.channelActive()
        _ = machine.slotsGranted(2)
        _ = machine.receive(assign("H:1"))
        #expect(machine.receive(.noJob) == Machine.Action(releaseSlots: 1))
        #expect(!machine.isSleeping)
        let finished = machine.finished(handle: ByteBuffer(string: "H:1"), .complete(ByteBuffer()))
        #expect(finished.wantSlots == 2)
        _ = machine.slotsGranted(2)
        _ = machine.receive(.noJob)
        #expect(machine.receive(.noJob) == Machine.Action(releaseSlots: 1, preSleep: true))
    }

    @Test func drainsFinishesRunningJobsThenCloses() throws {
        var machine = grabbing(capacity: 2)
        _ = machine.receive(assign("H:1"))
        #expect(machine.drain() == .none)
        // A job from a grab already sent still runs.
        #expect(machine.receive(assign("H:2")) == Machine.Action(start: job("H:2")))
        #expect(machine.finished(handle: ByteBuffer(string: "H:1"), .complete(ByteBuffer())).close == false)
        let last = machine.finished(handle: ByteBuffer(string: "H:2"), .complete(ByteBuffer()))
        #expect(last.close && last.grabs == 0 && last.wantSlots == 0 && last.reply != nil)
    }

    @Test func drainingAnIdleConnectionClosesAtOnce() throws {
        var machine = grabbing(capacity: 1)
        _ = machine.receive(.noJob)
        #expect(machine.drain() == Machine.Action(close: true))
        #expect(machine.slotsAvailable() == .none)
    }

    @Test func aLostConnectionGivesBackItsGrabSlots() {
        var machine = grabbing(capacity: 3)
        #expect(machine.channelInactive() == 3)
        #expect(machine.channelInactive() == 0)
        #expect(machine.slotsGranted(1) == Machine.Action(releaseSlots: 1))
    }

    @Test func jobSlotsAreSharedAndWakeWaiters() {
        let slots = JobSlots(2)
        #expect(slots.acquire(upTo: 3, onRelease: {}) == 2)
        let woken = Counter()
        #expect(slots.acquire(upTo: 1, onRelease: { woken.increment() }) == 0)
        slots.release(1)
        #expect(woken.value == 1)
        slots.release(1)
        #expect(woken.value == 1)
        #expect(slots.free == 2)
    }

    @Test func protocolViolationsCloseWithTheReason() {
        var machine = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        #expect(
            machine.receive(.noJob)
                == Machine.Action(close: true, violation: .protocolViolation("NO_JOB without GRAB_JOB")))
        var other = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        #expect(
            other.receive(.jobCreated(handle: ByteBuffer(string: "H")))
                == Machine.Action(close: true, violation: .protocolViolation("JOB_CREATED sent to a worker")))
        var third = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        #expect(
            third.receive(.error(code: "QUEUE_ERROR", message: "full"))
                == Machine.Action(close: true, violation: .serverError(code: "QUEUE_ERROR", message: "full")))
    }

    @Test func lateResultsAreNotFatal() throws {
        var machine = Machine(functions: [.init(name: "f")], capacity: 1, clientID: nil)
        #expect(machine.receive(.error(code: "JOB_NOT_FOUND", message: "Job given in work result not found")) == .none)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NIOLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
