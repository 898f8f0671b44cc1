import GearmanProtocol
import NIOCore

/// One sample of every request and response, so that round trips cover every packet type.
enum Samples {
    static func bytes(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

    static let handle = bytes("H:host:42")

    static var requests: [GearmanRequest] {
        var submits: [GearmanRequest] = []
        for priority in GearmanPriority.allCases {
            for background in [false, true] {
                submits.append(
                    .submitJob(
                        GearmanSubmitJob(
                            function: bytes("resize"), unique: bytes("u-\(priority)"),
                            workload: bytes("payload\0with\0nuls"), priority: priority, isBackground: background)))
            }
        }
        return submits + [
            .submitJob(
                GearmanSubmitJob(function: bytes("f"), unique: bytes(""), workload: bytes("w"), epoch: 1_900_000_000)),
            .submitJob(
                GearmanSubmitJob(function: bytes("f"), unique: bytes("u"), workload: bytes("w"), reducer: bytes("r"))),
            .submitJob(
                GearmanSubmitJob(
                    function: bytes("f"), unique: bytes("u"), workload: bytes(""), isBackground: true,
                    reducer: bytes("r"),
                    aggregator: bytes("a"))),
            .submitJobScheduled(
                GearmanSubmitJob(function: bytes("f"), unique: bytes("u"), workload: bytes("w"), isBackground: true),
                GearmanSchedule(
                    minute: bytes("1"), hour: bytes("2"), dayOfMonth: bytes("3"), month: bytes("4"),
                    dayOfWeek: bytes("5"))),
            .canDo(function: bytes("resize")),
            .canDoTimeout(function: bytes("resize"), timeout: 1500),
            .cantDo(function: bytes("resize")),
            .resetAbilities,
            .preSleep,
            .grabJob(.plain),
            .grabJob(.unique),
            .grabJob(.all),
            .setClientID(bytes("worker-A")),
            .allYours,
            .workData(handle: handle, data: bytes("partial\0data")),
            .workWarning(handle: handle, data: bytes("careful")),
            .workStatus(handle: handle, numerator: bytes("1"), denominator: bytes("3")),
            .workComplete(handle: handle, data: bytes("done")),
            .workFail(handle: handle),
            .workException(handle: handle, data: bytes("boom")),
            .getStatus(handle: handle),
            .getStatusUnique(unique: bytes("u")),
            .echo(bytes("ping\0pong")),
            .option(bytes("exceptions")),
        ]
    }

    static var responses: [GearmanResponse] {
        [
            .noop,
            .noJob,
            .jobCreated(handle: handle),
            .jobAssign(handle: handle, function: bytes("f"), workload: bytes("w\0w")),
            .jobAssignUnique(handle: handle, function: bytes("f"), unique: bytes("u"), workload: bytes("w")),
            .jobAssignAll(
                handle: handle, function: bytes("f"), unique: bytes("u"), reducer: bytes("r"), workload: bytes("")),
            .workData(handle: handle, data: bytes("d")),
            .workWarning(handle: handle, data: bytes("w")),
            .workStatus(handle: handle, numerator: bytes("50"), denominator: bytes("100")),
            .workComplete(handle: handle, data: bytes("result\0bytes")),
            .workFail(handle: handle),
            .workException(handle: handle, data: bytes("message")),
            .status(GearmanJobStatus(key: handle, isKnown: true, isRunning: false, numerator: 1, denominator: 2)),
            .statusUnique(
                GearmanJobStatus(
                    key: bytes("u"), isKnown: true, isRunning: true, numerator: 3, denominator: 4, waitingClients: 2)),
            .echo(bytes("e")),
            .option(bytes("exceptions")),
            .error(code: "QUEUE_ERROR", message: "Job queue is full"),
        ]
    }
}

extension ByteBuffer {
    /// A raw packet, header and body, for feeding decoders bytes that no encoder would write.
    static func rawPacket(magic: UInt32 = 0x0052_4551, type: UInt32, body: String = "", declaredLength: UInt32? = nil)
        -> ByteBuffer
    {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(magic, type, declaredLength ?? UInt32(body.utf8.count))
        buffer.writeString(body)
        return buffer
    }
}
