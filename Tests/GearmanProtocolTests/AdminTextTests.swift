import GearmanProtocol
import NIOCore
import Testing

@Suite struct AdminTextTests {
    @Test(arguments: [
        ("status", GearmanAdminCommand.status),
        ("STATUS", .status),
        ("workers", .workers),
        ("prioritystatus", .priorityStatus),
        ("show jobs", .showJobs),
        ("show unique jobs", .showUniqueJobs),
        ("Show Unique Jobs", .showUniqueJobs),
        ("cancel job H:host:1", .cancelJob(handle: "H:host:1")),
        ("create function resize", .createFunction("resize")),
        ("drop function resize", .dropFunction("resize")),
        ("getpid", .getPID),
        ("version", .version),
        ("verbose", .verbose),
        ("shutdown", .shutdown(graceful: false)),
        ("shutdown graceful", .shutdown(graceful: true)),
        ("  status  ", .status),
        ("cache", .cache),
        ("CACHE", .cache),
    ])
    func parsesCommands(line: String, expected: GearmanAdminCommand) {
        #expect(GearmanAdminCommand(line: line) == expected)
    }

    @Test func maxQueueAppliesOneLimitToEveryPriorityOrThreeSeparately() {
        #expect(
            GearmanAdminCommand(line: "maxqueue f 5")
                == .maxQueue(function: "f", limits: [.high: 5, .normal: 5, .low: 5]))
        #expect(
            GearmanAdminCommand(line: "maxqueue f")
                == .maxQueue(function: "f", limits: [.high: 0, .normal: 0, .low: 0]))
        #expect(
            GearmanAdminCommand(line: "maxqueue f 1 2 3")
                == .maxQueue(function: "f", limits: [.high: 1, .normal: 2, .low: 3]))
        #expect(
            GearmanAdminCommand(line: "maxqueue f 1 2")
                == .maxQueue(function: "f", limits: [.high: 1, .normal: 2, .low: 0]))
        #expect(
            GearmanAdminCommand(line: "maxqueue f -4")
                == .maxQueue(function: "f", limits: [.high: 0, .normal: 0, .low: 0]))
    }

    @Test(arguments: [
        ("", "ERR UNKNOWN_COMMAND Unknown+server+command\r\n"),
        ("bogus", "ERR UNKNOWN_COMMAND Unknown+server+commandbogus\r\n"),
        ("cancel job", "ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n"),
        ("cancel jobs a", "ERR UNKNOWN_ERROR\r\n"),
        ("show", "ERR UNKNOWN_COMMAND Unknown+server+commandshow\r\n"),
        ("show foo", "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"),
        ("maxqueue", "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+maxqueue\r\n"),
        ("create function", "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+create\r\n"),
        ("drop", "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+drop\r\n"),
        ("cache f", "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+cache\r\n"),
    ])
    func invalidLinesGetGearmandsErrors(line: String, reply: String) {
        #expect(GearmanAdminCommand(line: line) == .invalid(GearmanAdminReply(text: reply)))
    }

    @Test func repliesHaveGearmandsBytes() {
        #expect(GearmanAdminReply.ok.text == "OK\r\n")
        #expect(GearmanAdminReply.ok("1.1.20").text == "OK 1.1.20\n")
        #expect(GearmanAdminReply.table(["f\t1\t0\t2"]).text == "f\t1\t0\t2\n.\n")
        #expect(GearmanAdminReply.table([]).text == ".\n")
        #expect(GearmanAdminReply.unknownJob.text == "ERR UNKNOWN_JOB\r\n")
        var buffer = ByteBuffer()
        GearmanAdminReply.table(["a"]).encode(into: &buffer)
        #expect(String(buffer: buffer) == "a\n.\n")
    }
}
