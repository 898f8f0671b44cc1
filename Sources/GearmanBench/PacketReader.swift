import GearmanProtocol
import NIOCore

/// Splits a connection's bytes into packets without a `ByteToMessageHandler`, which would box every frame
/// into an `NIOAny`: the generator must cost less per packet than the server it measures.
struct PacketReader {
    private var decoder = GearmanFrameDecoder()
    private var unread: ByteBuffer?

    /// Calls `body` for every complete packet in `buffer` and what was left over from the last read.
    /// Throws on bytes that are not Gearman packets (admin text included: a server never sends it unasked).
    mutating func read(_ buffer: ByteBuffer, _ body: (GearmanPacket) -> Void) throws {
        var buffer = buffer
        if var rest = unread {
            unread = nil
            rest.writeBuffer(&buffer)
            buffer = rest
        }
        while let frame = try decoder.decode(buffer: &buffer) {
            guard case .packet(let packet) = frame else { throw GearmanProtocolError.invalidMagic(0) }
            body(packet)
        }
        if buffer.readableBytes > 0 {
            unread = buffer
        }
    }
}
