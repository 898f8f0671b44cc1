import GearmanProtocol
import NIOCore
import NIOTestUtils
import Testing

@Suite struct FrameDecoderTests {
    @Test func decodesByteByByteAndManyPerBuffer() throws {
        var pairs: [(ByteBuffer, [GearmanFrame])] = []
        for request in Samples.requests {
            var buffer = ByteBuffer()
            request.encode(into: &buffer)
            var decoder = GearmanFrameDecoder()
            var copy = buffer
            let frame = try #require(try decoder.decode(buffer: &copy))
            pairs.append((buffer, [frame]))
        }
        pairs.append((ByteBuffer(string: "status\r\n"), [.adminLine(ByteBuffer(string: "status"))]))
        pairs.append((ByteBuffer(string: "workers\n"), [.adminLine(ByteBuffer(string: "workers"))]))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            GearmanFrameDecoder()
        }
    }

    @Test func adminAndBinaryFramesMayFollowEachOther() throws {
        var buffer = ByteBuffer(string: "version\n")
        GearmanRequest.echo(ByteBuffer(string: "x")).encode(into: &buffer)
        buffer.writeString("status\r\n")
        var decoder = GearmanFrameDecoder()
        #expect(try decoder.decode(buffer: &buffer) == .adminLine(ByteBuffer(string: "version")))
        guard case .packet(let packet) = try decoder.decode(buffer: &buffer) else {
            Issue.record("expected a packet")
            return
        }
        #expect(packet.type == .echoRequest)
        #expect(try decoder.decode(buffer: &buffer) == .adminLine(ByteBuffer(string: "status")))
        #expect(try decoder.decode(buffer: &buffer) == nil)
    }

    @Test func lastAdminLineMayEndWithTheStream() throws {
        var buffer = ByteBuffer(string: "status")
        var decoder = GearmanFrameDecoder()
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == .adminLine(ByteBuffer(string: "status")))
    }

    @Test func oversizedLengthIsRefusedFromTheHeaderAlone() {
        var buffer = ByteBuffer.rawPacket(type: 7, declaredLength: 0xFFFF_FFF0)
        var decoder = GearmanFrameDecoder()
        #expect(
            throws: GearmanProtocolError.packetTooLarge(
                0xFFFF_FFF0, limit: GearmanFrameDecoder.defaultMaximumPacketSize)
        ) {
            try decoder.decode(buffer: &buffer)
        }
    }

    @Test func configuredMaximumIsHonoured() throws {
        var decoder = GearmanFrameDecoder(maximumPacketSize: 10)
        var fits = ByteBuffer.rawPacket(type: 16, body: "0123456789")
        #expect(try decoder.decode(buffer: &fits) != nil)
        var tooLarge = ByteBuffer.rawPacket(type: 16, body: "0123456789A")
        #expect(throws: GearmanProtocolError.packetTooLarge(11, limit: 10)) { try decoder.decode(buffer: &tooLarge) }
    }

    @Test(arguments: [0 as UInt32, 5, 43, 44, 1000, 0xFFFF_FFFF])
    func unknownTypesAreRefused(type: UInt32) {
        var buffer = ByteBuffer.rawPacket(type: type)
        var decoder = GearmanFrameDecoder()
        #expect(throws: GearmanProtocolError.unknownPacketType(type)) { try decoder.decode(buffer: &buffer) }
    }

    @Test func badMagicIsRefused() {
        var buffer = ByteBuffer.rawPacket(magic: 0x0058_595A, type: 16)
        var decoder = GearmanFrameDecoder()
        #expect(throws: GearmanProtocolError.invalidMagic(0x0058_595A)) { try decoder.decode(buffer: &buffer) }
    }

    @Test func incompleteHeaderOrBodyWaitsForMore() throws {
        var decoder = GearmanFrameDecoder()
        var header = ByteBuffer(bytes: [0, 0x52, 0x45, 0x51, 0, 0])
        #expect(try decoder.decode(buffer: &header) == nil)
        var body = ByteBuffer.rawPacket(type: 16, body: "abc", declaredLength: 10)
        #expect(try decoder.decode(buffer: &body) == nil)
        #expect(body.readableBytes == 15)
    }

    @Test func overlongAdminLineIsRefused() {
        var decoder = GearmanFrameDecoder(maximumAdminLineLength: 16)
        var buffer = ByteBuffer(string: String(repeating: "x", count: 17))
        #expect(throws: GearmanProtocolError.adminLineTooLong(limit: 16)) { try decoder.decode(buffer: &buffer) }
        var terminated = ByteBuffer(string: String(repeating: "y", count: 20) + "\n")
        #expect(throws: GearmanProtocolError.adminLineTooLong(limit: 16)) { try decoder.decode(buffer: &terminated) }
    }
}
