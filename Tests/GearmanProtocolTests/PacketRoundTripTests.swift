import GearmanProtocol
import NIOCore
import Testing

@Suite struct PacketRoundTripTests {
    private func frame(_ buffer: ByteBuffer) throws -> GearmanPacket {
        var buffer = buffer
        var decoder = GearmanFrameDecoder()
        guard case .packet(let packet) = try decoder.decode(buffer: &buffer) else {
            Issue.record("expected a packet")
            throw CancellationError()
        }
        #expect(buffer.readableBytes == 0, "the decoder left bytes behind")
        return packet
    }

    @Test(arguments: Samples.requests)
    func requestRoundTrips(_ request: GearmanRequest) throws {
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        let packet = try frame(buffer)
        #expect(packet.magic == .request)
        #expect(packet.type == request.packetType)
        #expect(try GearmanRequest(packet: packet) == request)
    }

    @Test(arguments: Samples.responses)
    func responseRoundTrips(_ response: GearmanResponse) throws {
        var buffer = ByteBuffer()
        response.encode(into: &buffer)
        let packet = try frame(buffer)
        #expect(packet.magic == .response)
        #expect(packet.type == response.packetType)
        #expect(try GearmanResponse(packet: packet) == response)
    }

    /// A large workload or result left for a write by reference, then appended, gives the same bytes.
    @Test func largeDataByReferenceMakesTheSamePackets() {
        let large = ByteBuffer(repeating: 0x5A, count: GearmanPacketWriter.referenceThreshold)
        let handle = ByteBuffer(string: "H:h:1")
        let requests: [GearmanRequest] =
            Samples.requests + [
                .submitJob(GearmanSubmitJob(function: ByteBuffer(string: "f"), unique: ByteBuffer(), workload: large)),
                .workComplete(handle: handle, data: large), .workData(handle: handle, data: large),
            ]
        expectHeadAndTrailerMakeTheWholePacket(requests) { request, buffer, byReference in
            request.encode(into: &buffer, largeDataByReference: byReference)
        }
        let responses: [GearmanResponse] =
            Samples.responses + [
                .workComplete(handle: handle, data: large),
                .jobAssignUnique(
                    handle: handle, function: ByteBuffer(string: "f"), unique: ByteBuffer(), workload: large),
            ]
        expectHeadAndTrailerMakeTheWholePacket(responses) { response, buffer, byReference in
            response.encode(into: &buffer, largeDataByReference: byReference)
        }
    }

    /// Each message written whole, and written with its large data left out and then appended, gives the same
    /// bytes; what is left out is at least the threshold.
    private func expectHeadAndTrailerMakeTheWholePacket<Message>(
        _ messages: [Message], _ encode: (Message, inout ByteBuffer, Bool) -> ByteBuffer?
    ) {
        for message in messages {
            var whole = ByteBuffer()
            #expect(encode(message, &whole, false) == nil)
            var head = ByteBuffer()
            if var trailer = encode(message, &head, true) {
                #expect(trailer.readableBytes >= GearmanPacketWriter.referenceThreshold)
                head.writeBuffer(&trailer)
            }
            #expect(head == whole, "\(message)")
        }
    }

    @Test func samplesCoverEveryPacketType() {
        let covered = Set(Samples.requests.map(\.packetType) + Samples.responses.map(\.packetType))
        #expect(covered == Set(GearmanPacketType.allCases))
        #expect(GearmanPacketType.allCases.count == 41)
    }

    @Test func submitJobHasTheWireLayoutOfThePROTOCOLFile() {
        var buffer = ByteBuffer()
        GearmanRequest.submitJob(
            GearmanSubmitJob(
                function: ByteBuffer(string: "reverse"), unique: ByteBuffer(string: "u1"),
                workload: ByteBuffer(string: "abc"))
        ).encode(into: &buffer)
        #expect(
            Array(buffer.readableBytesView) == Array("\0REQ".utf8) + [0, 0, 0, 7, 0, 0, 0, 14]
                + Array("reverse\0u1\0abc".utf8))
    }

    @Test func argumentsAreSlicesOfTheReadBuffer() throws {
        var buffer = ByteBuffer()
        GearmanRequest.workComplete(handle: Samples.handle, data: ByteBuffer(string: "result")).encode(into: &buffer)
        let packet = try frame(buffer)
        guard case .workComplete(_, let data) = try GearmanRequest(packet: packet) else {
            Issue.record("wrong request")
            return
        }
        let storage = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let slice = data.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(slice == storage + UInt(GearmanPacket.headerLength + Samples.handle.readableBytes + 1))
    }

    @Test func packetTypeDirectionsFollowThePROTOCOLFile() {
        let both: Set<GearmanPacketType> = [
            .workStatus, .workComplete, .workFail, .workException, .workData, .workWarning,
        ]
        for type in GearmanPacketType.allCases {
            #expect(type.isRequest || type.isResponse)
            #expect((type.isRequest && type.isResponse) == both.contains(type), "\(type.name)")
        }
    }
}
