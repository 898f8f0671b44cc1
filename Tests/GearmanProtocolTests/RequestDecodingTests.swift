import GearmanProtocol
import NIOCore
import Testing

@Suite struct RequestDecodingTests {
    private func packet(_ type: GearmanPacketType, _ body: String, magic: GearmanMagic = .request) -> GearmanPacket {
        GearmanPacket(magic: magic, type: type, body: ByteBuffer(string: body))
    }

    @Test func responseMagicSentToAServerIsInvalidMagic() {
        #expect(throws: GearmanProtocolError.invalidMagic(GearmanMagic.response.rawValue)) {
            try GearmanRequest(packet: packet(.echoRequest, "x", magic: .response))
        }
    }

    @Test(arguments: GearmanPacketType.allCases.filter { !$0.isRequest })
    func responseTypesSentAsRequestsAreInvalidCommands(type: GearmanPacketType) {
        #expect(throws: GearmanProtocolError.unexpectedPacket(type, magic: .request)) {
            try GearmanRequest(packet: packet(type, ""))
        }
    }

    @Test func truncatedArgumentsAreInvalidPackets() {
        #expect(throws: GearmanProtocolError.missingArguments(.submitJob, expected: 3, found: 1)) {
            try GearmanRequest(packet: packet(.submitJob, "reverse"))
        }
        #expect(throws: GearmanProtocolError.missingArguments(.submitJob, expected: 3, found: 2)) {
            try GearmanRequest(packet: packet(.submitJob, "reverse\0unique-without-terminator"))
        }
        #expect(throws: GearmanProtocolError.missingArguments(.workStatus, expected: 3, found: 2)) {
            try GearmanRequest(packet: packet(.workStatus, "H:x:1\050"))
        }
        #expect(throws: GearmanProtocolError.missingArguments(.submitReduceJob, expected: 5, found: 4)) {
            try GearmanRequest(packet: packet(.submitReduceJob, "f\0u\0r\0"))
        }
    }

    @Test func badNumbersAreInvalidPackets() {
        #expect(throws: GearmanProtocolError.invalidNumber(.canDoTimeout, argument: "timeout")) {
            try GearmanRequest(packet: packet(.canDoTimeout, "f\0soon"))
        }
        #expect(throws: GearmanProtocolError.invalidNumber(.submitJobEpoch, argument: "epoch")) {
            try GearmanRequest(packet: packet(.submitJobEpoch, "f\0u\0\0data"))
        }
        #expect(throws: GearmanProtocolError.invalidNumber(.canDoTimeout, argument: "timeout")) {
            try GearmanRequest(packet: packet(.canDoTimeout, "f\099999999999"))
        }
    }

    @Test func epochsOutsideTheCalendarAreInvalidPackets() throws {
        let range = "\(GearmanSubmitJob.validEpochs)"
        for epoch in ["-1", "253402300800", "111111111111111", "-9223372036854775808"] {
            #expect(throws: GearmanProtocolError.numberOutOfRange(.submitJobEpoch, argument: "epoch", range: range)) {
                try GearmanRequest(packet: packet(.submitJobEpoch, "f\0u\0\(epoch)\0data"))
            }
        }
        #expect(throws: GearmanProtocolError.invalidNumber(.submitJobEpoch, argument: "epoch")) {
            try GearmanRequest(packet: packet(.submitJobEpoch, "f\0u\09223372036854775808\0data"))
        }
        for epoch: Int64 in [0, 111_111_111_111, 253_402_300_799] {
            guard case .submitJob(let job) = try GearmanRequest(packet: packet(.submitJobEpoch, "f\0u\0\(epoch)\0data"))
            else {
                Issue.record("not a submit")
                continue
            }
            #expect(job.epoch == epoch)
        }
    }

    @Test func lastArgumentKeepsItsNulBytes() throws {
        let request = try GearmanRequest(packet: packet(.submitJob, "f\0u\0a\0b\0"))
        guard case .submitJob(let job) = request else {
            Issue.record("not a submit")
            return
        }
        #expect(Array(job.workload.readableBytesView) == [0x61, 0, 0x62, 0])
        #expect(job.priority == .normal)
        #expect(!job.isBackground)
    }

    @Test func emptyBodiesAreValidForArgumentlessTypes() throws {
        #expect(try GearmanRequest(packet: packet(.grabJobAll, "")) == .grabJob(.all))
        #expect(try GearmanRequest(packet: packet(.preSleep, "")) == .preSleep)
        #expect(try GearmanRequest(packet: packet(.echoRequest, "")) == .echo(ByteBuffer()))
    }

    @Test func submitVariantsMapToPriorityAndBackground() throws {
        let expectations: [(GearmanPacketType, GearmanPriority, Bool)] = [
            (.submitJob, .normal, false), (.submitJobBackground, .normal, true),
            (.submitJobHigh, .high, false), (.submitJobHighBackground, .high, true),
            (.submitJobLow, .low, false), (.submitJobLowBackground, .low, true),
        ]
        for (type, priority, background) in expectations {
            guard case .submitJob(let job) = try GearmanRequest(packet: packet(type, "f\0\0w")) else {
                Issue.record("not a submit")
                continue
            }
            #expect(job.priority == priority)
            #expect(job.isBackground == background)
            #expect(job.packetType == type)
        }
    }

    @Test func epochJobsAreBackground() throws {
        guard case .submitJob(let job) = try GearmanRequest(packet: packet(.submitJobEpoch, "f\0u\01700000000\0w"))
        else {
            Issue.record("not a submit")
            return
        }
        #expect(job.epoch == 1_700_000_000)
        #expect(job.isBackground)
    }
}
