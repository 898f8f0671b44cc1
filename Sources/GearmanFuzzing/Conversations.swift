import GearmanProtocol
import NIOCore

/// Real conversations with a job server, as the bytes a client, a worker or an operator sends: the seed
/// corpus that the TCP fuzzer mutates.
public enum Conversations {
    public static let all: [[UInt8]] = [
        packets(
            .option(ByteBuffer(string: "exceptions")),
            .submitJob(job("reverse", "", "Hello World!")),
            .submitJob(job("reverse", "u-1", "again", priority: .high)),
            .getStatus(handle: ByteBuffer(string: "H:gearbox:1"))),
        packets(
            .submitJob(job("resize", "-", "photo", background: true)),
            .submitJob(job("resize", "-", "photo", priority: .low, background: true)),
            .getStatusUnique(unique: ByteBuffer(string: "-"))),
        packets(
            .submitJob(
                GearmanSubmitJob(
                    function: ByteBuffer(string: "later"), workload: ByteBuffer(string: "x"), epoch: 1_900_000_000))),
        packets(
            .submitJob(
                GearmanSubmitJob(
                    function: ByteBuffer(string: "count"), unique: ByteBuffer(string: "r"),
                    workload: ByteBuffer(string: "a b"),
                    reducer: ByteBuffer(string: "sum")))),
        packets(
            .setClientID(ByteBuffer(string: "worker-1")),
            .canDo(function: ByteBuffer(string: "reverse")),
            .canDoTimeout(function: ByteBuffer(string: "slow"), timeout: 500),
            .grabJob(.unique),
            .preSleep,
            .grabJob(.all),
            .workStatus(
                handle: ByteBuffer(string: "H:gearbox:1"), numerator: ByteBuffer(string: "1"),
                denominator: ByteBuffer(string: "2")),
            .workData(handle: ByteBuffer(string: "H:gearbox:1"), data: ByteBuffer(string: "part")),
            .workComplete(handle: ByteBuffer(string: "H:gearbox:1"), data: ByteBuffer(string: "!dlroW olleH"))),
        packets(
            .canDo(function: ByteBuffer(string: "f")),
            .grabJob(.plain),
            .workException(handle: ByteBuffer(string: "H:gearbox:2"), data: ByteBuffer(string: "boom")),
            .workFail(handle: ByteBuffer(string: "H:gearbox:3")),
            .cantDo(function: ByteBuffer(string: "f")),
            .resetAbilities,
            .echo(ByteBuffer(string: "ping"))),
        Array("status\nworkers\nprioritystatus\nshow jobs\nshow unique jobs\nversion\ngetpid\nverbose\n".utf8),
        Array("maxqueue reverse 10\ncreate function f\ndrop function f\ncancel job H:gearbox:1\nmaxqueue\n".utf8),
    ]

    private static func job(
        _ function: String, _ unique: String, _ workload: String, priority: GearmanPriority = .normal,
        background: Bool = false
    ) -> GearmanSubmitJob {
        GearmanSubmitJob(
            function: ByteBuffer(string: function), unique: ByteBuffer(string: unique),
            workload: ByteBuffer(string: workload), priority: priority, isBackground: background)
    }

    private static func packets(_ requests: GearmanRequest...) -> [UInt8] {
        var buffer = ByteBuffer()
        for request in requests { request.encode(into: &buffer) }
        return Array(buffer.readableBytesView)
    }
}
